import { describe, expect, it } from 'vitest';
import { openApiDocument, ROUTES, type RouteDoc } from '../../src/http/openapi.js';

/** The document is built at start-up; a bad route entry must stop it there, not ship a document clients choke on. */
describe('openApiDocument', () => {
  const liveness = ROUTES.find((r) => r.path === '/healthz') as RouteDoc;

  it('refuses an operationId used twice', () => {
    const twin: RouteDoc = { ...liveness, path: '/healthz-again' };
    expect(() => openApiDocument([liveness, twin])).toThrow('operationId getLiveness is used twice');
  });

  it('refuses an operationId that is not camelCase', () => {
    expect(() => openApiDocument([{ ...liveness, operationId: 'get-liveness' }])).toThrow('is not camelCase');
  });

  it('builds from the route table', () => {
    const doc = openApiDocument();
    expect(Object.values(doc.paths ?? {}).flatMap((item) => Object.keys(item ?? {}))).toHaveLength(ROUTES.length);
  });
});
