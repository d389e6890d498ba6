import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { openApiPath, ROUTES } from '../../src/http/openapi.js';
import { servedRoutes } from '../helpers/routes.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

interface Operation {
  operationId?: string;
  summary?: string;
  security?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

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
    expect(chunk.parameters.map((p: { name: string }) => p.name)).toEqual(['recordingId', 'seq', 'Content-Digest']);
    expect(Object.keys(chunk.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413']));
    // Answers are described too, from src/http/response-schemas.ts.
    expect(chunk.responses['201'].content['application/json'].schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['outcome', 'seq', 'sha256']),
    });
    const decided =
      res.body.paths['/v1/access-requests/{id}/decisions'].post.responses['200'].content['application/json'].schema;
    expect(decided.properties.status.enum).toEqual(['pending', 'approved', 'rejected', 'expired', 'revoked']);
    // Refusals name the one shared Error schema.
    expect(res.body.paths['/v1/audit'].get.responses['401'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(res.body.components.schemas.Error.required).toEqual(['error']);
    expect(res.body.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('passes swagger-parser: valid OpenAPI 3.1, every $ref resolves', async () => {
    const doc = (await request(vault.server).get('/openapi.json')).body as Parameters<typeof SwaggerParser.validate>[0];
    // The recursive JsonValue of audit details must resolve from the components (it used to point at a local $defs).
    await expect(SwaggerParser.validate(doc)).resolves.toMatchObject({ openapi: '3.1.0' });
  });

  it("passes Redocly's recommended lint with no error and only the warnings named here", async () => {
    const res = await request(vault.server).get('/openapi.json');
    const problems = await lintFromString({
      source: res.text,
      absoluteRef: 'openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    });
    const found = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`);
    expect(
      found.filter((p) => p.startsWith('error')),
      'lint errors',
    ).toEqual([]);
    expect(found.sort()).toEqual(
      [
        // The project has not chosen a licence; not ours to invent in the API description.
        'warn info-license #/info',
        // Probes, this document and the log's public checkpoint and key answer no 4xx: they take nothing, need no token.
        ...['/healthz', '/readyz', '/metrics', '/openapi.json', '/v1/audit/checkpoint', '/v1/audit/log-key'].map(
          (p) => `warn operation-4xx-response #/paths/${p.replaceAll('/', '~1')}/get/responses`,
        ),
      ].sort(),
    );
  });

  it('gives every operation a unique operationId, a summary, explicit security and the Error body on 4xx', async () => {
    const doc = (await request(vault.server).get('/openapi.json')).body as {
      servers: { url: string }[];
      paths: Record<string, Record<string, Operation>>;
    };
    expect(doc.servers.length).toBeGreaterThan(0);
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(operations.length).toBe(ROUTES.length);
    const ids = operations.map((o) => o.operationId);
    expect(
      ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id)),
      ids.join(),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(op.summary, op.where).toEqual(expect.any(String));
      const isPublic = ROUTES.find((r) => r.operationId === op.operationId)?.roles === 'anyone';
      expect(op.security, op.where).toEqual(isPublic ? [] : [{ bearer: [] }]);
      const refusals = Object.entries(op.responses).filter(([status]) => status.startsWith('4'));
      if (!isPublic)
        expect(
          refusals.map(([s]) => s),
          op.where,
        ).toEqual(expect.arrayContaining(['400', '401', '403']));
      for (const [status, answer] of refusals)
        expect(answer.content?.['application/json']?.schema, `${op.where} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
    }
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
    const consoleFiles = [
      'GET /console',
      'GET /console/app.js',
      'GET /console/styles.css',
      'GET /console/sw.js',
      'GET /favicon.ico',
    ];
    expect(servedRoutes(app).filter((r) => r.startsWith('GET /console') || r === 'GET /favicon.ico')).toEqual(
      consoleFiles,
    );
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
