import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { openApiPath } from '../../src/http/openapi.js';
import { servedRoutes } from '../helpers/routes.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

describe('/openapi.json', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('is OpenAPI 3.1 with JSON schemas from the validating zod schemas', async () => {
    const res = await request(vault.server).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const createOrder = res.body.paths['/v1/orders'].post;
    expect(createOrder.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['orderId', 'beauticianId', 'customerId', 'scheduledAt']),
    });
    const chunk = res.body.paths['/v1/recordings/{recordingId}/chunks/{seq}'].put;
    expect(chunk.parameters.map((p: { name: string }) => p.name)).toEqual(['recordingId', 'seq']);
    expect(Object.keys(chunk.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413']));
    // Answers are described too, from src/http/response-schemas.ts.
    expect(chunk.responses['201'].content['application/json'].schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['outcome', 'seq', 'sha256']),
    });
    const decided =
      res.body.paths['/v1/access-requests/{id}/decisions'].post.responses['200'].content['application/json'].schema;
    expect(decided.properties.status.enum).toEqual(['pending', 'approved', 'rejected', 'expired']);
    expect(res.body.paths['/v1/audit'].get.responses['401'].content['application/json'].schema.required).toEqual([
      'error',
    ]);
  });

  it('documents every route the app serves (add a ROUTES entry in src/http/openapi.ts for a new route)', async () => {
    const doc = (await request(vault.server).get('/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const app = createApp({ ...vault.deps, logger: (await import('pino')).default({ level: 'silent' }) });
    // The web console's static files are pages for people, not API: named here so a new one is a conscious choice.
    const consoleFiles = ['GET /console', 'GET /console/app.js', 'GET /console/styles.css'];
    expect(servedRoutes(app).filter((r) => r.startsWith('GET /console'))).toEqual(consoleFiles);
    const served = servedRoutes(app).filter((r) => !consoleFiles.includes(r));
    expect(served.length).toBeGreaterThan(15);
    const missing = served.filter((r) => {
      const [method, path] = r.split(' ');
      return !documented.has(`${method} ${openApiPath(path!)}`);
    });
    expect(missing, 'routes served but missing from the OpenAPI document').toEqual([]);
    const servedSet = new Set(
      served.map((r) => {
        const [m, p] = r.split(' ');
        return `${m} ${openApiPath(p!)}`;
      }),
    );
    expect(
      [...documented].filter((d) => !servedSet.has(d)),
      'documented but not served',
    ).toEqual([]);
  });
});
