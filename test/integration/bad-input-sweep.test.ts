import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import type { Role } from '../../src/domain/principal.js';
import { ROUTES, type RouteDoc } from '../../src/http/openapi.js';
import { bearer, newVisit, type Visit } from '../helpers/actors.js';
import { type Approval, approvedRequest, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/** Values no field should turn into a 5xx: text no store keeps, direction overrides, times at and past the edges. */
const BAD_VALUES = [
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  'a\u202Eb\u202Dc',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-05:00',
  '+275760-09-13T00:00:00Z',
];

/** Path segments and query values as sent on the wire: broken and hostile %-escapes, and the values above encoded. */
const BAD_SEGMENTS = [
  '%E0%A4%A',
  '%',
  '%ZZ',
  '%00',
  '%ED%A0%80',
  '%E2%80%AE',
  ...BAD_VALUES.slice(3).map(encodeURIComponent),
];

const keysOf = (schema: unknown): string[] => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);

/**
 * SPEC status codes and step 9: every route of the OpenAPI table (so a new
 * route is swept without anyone adding it here), every path id, query
 * parameter and JSON body field, each given each bad value: no 5xx, every
 * refusal audited, and the audit log still verifies.
 */
describe('bad-input sweep over every route (postgres+fs)', () => {
  let vault: TestVault;
  let visit: Visit;
  let grant: Approval;
  let recordingId: string;
  let holdId: string;
  let sealedKey: string;
  const tokens: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
    visit = await newVisit(vault);
    recordingId = await uploadSealed(vault, visit);
    grant = await approvedRequest(vault, visit.orderId);
    tokens.admin = vault.adminToken;
    tokens.platform = visit.platformToken;
    tokens.beautician = visit.beauticianToken;
    tokens.dispute_staff = grant.staffToken;
    tokens.department_head = await vault.addPrincipal({
      id: 'sweep-head',
      roles: ['department_head'],
      department: 'disputes',
    });
    tokens.security_head = await vault.addPrincipal({
      id: 'sweep-sec',
      roles: ['security_head'],
      department: 'security',
    });
    tokens.auditor = await vault.addPrincipal({ id: 'sweep-auditor', roles: ['auditor'], department: 'audit' });
    const hold = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(visit.platformToken))
      .send({ reason: 'complaint' });
    holdId = hold.body.id;
    const sodium = await getSodium();
    sealedKey = toBase64Url(sodium.crypto_box_seal(sodium.randombytes_buf(32), fromBase64Url(visit.publicKey)!));
  });
  afterAll(async () => vault?.close());

  /** A valid value for a field or path parameter, by its name; unknown names get a plausible id. */
  function sample(route: RouteDoc, name: string): unknown {
    const byName: Record<string, unknown> = {
      orderId: visit.orderId,
      recordingId,
      holdId,
      seq: '0',
      id: route.path.startsWith('/v1/principals') ? 'sweep-auditor' : grant.requestId,
      beauticianId: visit.beauticianId,
      customerId: 'cust-sweep',
      scheduledAt: '2026-11-24T10:00:00Z',
      until: new Date(vault.clock.now().getTime() + 86_400_000).toISOString(),
      party: 'customer',
      decision: route.path.includes('decisions') ? 'approve' : 'consent',
      mode: 'explicit',
      appVersion: '1.0',
      sealedContentKey: sealedKey,
      mimeType: 'audio/ogg',
      chunkCount: 1,
      purpose: 'dispute',
      reason: route.path.includes('holds') ? 'complaint' : 'sweep',
      ticketRef: 'T-sweep',
      comment: 'sweep',
      note: 'sweep',
      name: 'Sweep',
      department: 'ops',
      roles: ['auditor'],
    };
    return name in byName ? byName[name] : 'sweep-1';
  }

  interface Probe {
    label: string;
    route: RouteDoc;
    path: string;
    query?: string;
    body?: Record<string, unknown>;
  }

  function pathWith(route: RouteDoc, replace?: { name: string; raw: string }): string {
    return route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) =>
      replace?.name === name ? replace.raw : encodeURIComponent(String(sample(route, name))),
    );
  }

  function probesOf(route: RouteDoc): Probe[] {
    const out: Probe[] = [];
    const bodyKeys = route.body === 'octet-stream' ? [] : keysOf(route.body);
    const validBody = () => Object.fromEntries(bodyKeys.map((k) => [k, sample(route, k)]));
    const body = route.body && route.body !== 'octet-stream' ? validBody() : undefined;
    for (const name of keysOf(route.params))
      for (const raw of BAD_SEGMENTS)
        out.push({ label: `path ${name}=${raw}`, route, path: pathWith(route, { name, raw }), body });
    for (const name of keysOf(route.query))
      for (const raw of BAD_SEGMENTS)
        out.push({ label: `query ${name}=${raw}`, route, path: pathWith(route), query: `${name}=${raw}`, body });
    for (const name of bodyKeys)
      for (const value of BAD_VALUES)
        out.push({
          label: `body ${name}=${JSON.stringify(value)}`,
          route,
          path: pathWith(route),
          body: { ...validBody(), [name]: value },
        });
    return out;
  }

  async function send(p: Probe): Promise<number> {
    const roles = p.route.roles;
    const token = roles === 'anyone' ? undefined : tokens[roles[0]!];
    let req = request(vault.server)[p.route.method](`${p.path}${p.query ? `?${p.query}` : ''}`);
    if (token) req = req.set(bearer(token));
    if (p.route.body === 'octet-stream')
      req = req.set('content-type', 'application/octet-stream').send(Buffer.alloc(64, 1));
    // JSON.stringify writes lone surrogates as \ud800 escapes, which the server's JSON parser turns back into them.
    else if (p.body) req = req.set('content-type', 'application/json').send(JSON.stringify(p.body));
    return (await req).status;
  }

  const refusalCount = async () =>
    Number(
      (
        await vault.deps.db.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM audit_log WHERE action = 'request.refused'`,
        )
      )[0]?.n,
    );

  it('answers no 5xx anywhere, audits every refusal, and the audit log verifies after', async () => {
    const probes = ROUTES.flatMap(probesOf);
    // Every authenticated route has at least its path, query or body swept.
    const swept = new Set(probes.map((p) => `${p.route.method} ${p.route.path}`));
    for (const r of ROUTES)
      if (keysOf(r.params).length + keysOf(r.query).length + keysOf(r.body).length > 0)
        expect(swept.has(`${r.method} ${r.path}`), r.operationId).toBe(true);

    const before = await refusalCount();
    const fivexx: string[] = [];
    let refusals = 0;
    // A few at a time: the order of these requests does not matter, the answer to each does.
    for (let i = 0; i < probes.length; i += 8) {
      const batch = probes.slice(i, i + 8);
      const statuses = await Promise.all(batch.map(send));
      statuses.forEach((status, j) => {
        const p = batch[j]!;
        if (status >= 500) fivexx.push(`${status} ${p.route.method.toUpperCase()} ${p.route.path} ${p.label}`);
        if (status >= 400 && status < 500 && status !== 429) refusals++;
      });
    }
    expect(fivexx).toEqual([]);
    expect(probes.length).toBeGreaterThan(200);
    expect(await refusalCount()).toBe(before + refusals);

    const verify = await request(vault.server).get('/v1/audit/verify').set(bearer(tokens.auditor!));
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
  }, 60_000);
});
