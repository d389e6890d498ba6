import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit, type Visit } from '../helpers/actors.js';
import { auditEntries } from '../helpers/audit-entries.js';
import { type Approval, approvedRequest, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

/**
 * SPEC status codes: no 500 for anything a client sent. Text no store can
 * keep (NUL, unpaired surrogates), times outside 1970-9999 and malformed
 * %-escapes are 400 naming the field; `bearer` in any case authenticates.
 * SPEC step 9: each refusal is in the audit log, the unparseable id escaped.
 */
describe('text, times and paths no store can keep (postgres+fs)', () => {
  let vault: TestVault;
  let visit: Visit;
  let grant: Approval;
  let auditor: string;
  let head: string;
  let pendingId: string;

  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
    visit = await newVisit(vault);
    await uploadSealed(vault, visit);
    grant = await approvedRequest(vault, visit.orderId);
    auditor = await vault.addPrincipal({ id: 'uns-auditor', roles: ['auditor'], department: 'audit' });
    head = await vault.addPrincipal({ id: 'uns-head', roles: ['department_head'], department: 'disputes' });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(grant.staffToken))
      .send({ orderId: visit.orderId, purpose: 'dispute', reason: 'r', ticketRef: 'T-uns' });
    pendingId = filed.body.id;
  });
  afterAll(async () => vault?.close());

  /** JSON.stringify writes a lone surrogate as the escape \ud800, which express.json turns back into one. */
  const post = (path: string, token: string, body: object) =>
    request(vault.server)
      .post(path)
      .set(bearer(token))
      .set('content-type', 'application/json')
      .send(JSON.stringify(body));

  const cases = (): [string, () => Promise<request.Response>, string][] => {
    const out: [string, () => Promise<request.Response>, string][] = [];
    for (const [label, bad] of [
      ['NUL', NUL],
      ['lone surrogate', LONE],
    ] as const) {
      const request_ = { orderId: visit.orderId, purpose: 'dispute', reason: 'why', ticketRef: 'T-1' };
      out.push(
        [
          `${label} in reason`,
          () => post('/v1/access-requests', grant.staffToken, { ...request_, reason: bad }),
          'reason',
        ],
        [
          `${label} in ticketRef`,
          () => post('/v1/access-requests', grant.staffToken, { ...request_, ticketRef: bad }),
          'ticketRef',
        ],
        [
          `${label} in comment`,
          () => post(`/v1/access-requests/${pendingId}/decisions`, head, { decision: 'approve', comment: bad }),
          'comment',
        ],
        [
          `${label} in note`,
          () => post(`/v1/orders/${visit.orderId}/holds`, visit.platformToken, { reason: 'complaint', note: bad }),
          'note',
        ],
        [
          `${label} in appVersion`,
          () =>
            post(`/v1/orders/${visit.orderId}/consents`, visit.platformToken, {
              party: 'customer',
              decision: 'consent',
              mode: 'explicit',
              appVersion: bad,
            }),
          'appVersion',
        ],
        [
          `${label} in name`,
          () => post('/v1/principals', vault.adminToken, { id: 'p-x', name: bad, department: 'd', roles: ['auditor'] }),
          'name',
        ],
        [
          `${label} in department`,
          () => post('/v1/principals', vault.adminToken, { id: 'p-x', name: 'n', department: bad, roles: ['auditor'] }),
          'department',
        ],
        [
          `${label} in customerId`,
          () =>
            post('/v1/orders', visit.platformToken, {
              orderId: 'o-x',
              beauticianId: visit.beauticianId,
              customerId: bad,
              scheduledAt: '2026-11-24T10:00:00Z',
            }),
          'customerId',
        ],
      );
    }
    for (const time of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59-05:00']) {
      out.push(
        [
          `scheduledAt ${time}`,
          () =>
            post('/v1/orders', visit.platformToken, {
              orderId: 'o-t',
              beauticianId: visit.beauticianId,
              customerId: 'c',
              scheduledAt: time,
            }),
          'scheduledAt',
        ],
        [
          `legal hold until ${time}`,
          () => post(`/v1/orders/${visit.orderId}/holds`, visit.platformToken, { reason: 'legal', until: time }),
          'until',
        ],
      );
    }
    return out;
  };

  it('answers each with 400 naming the field, stores nothing and audits the refusal', async () => {
    const before = await vault.deps.db.query<{ n: string }>('SELECT count(*)::text AS n FROM holds');
    for (const [label, send, field] of cases()) {
      const res = await send();
      expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.field, label).toBe(field);
    }
    expect(await vault.deps.db.query('SELECT count(*)::text AS n FROM holds')).toEqual(before);
    const refusals = (await auditEntries(vault, auditor)).filter(
      (e) => e.action === 'request.refused' && e.details.status === 400,
    );
    expect(refusals.length).toBeGreaterThanOrEqual(cases().length);
    expect(refusals.map((e) => e.details.field)).toEqual(expect.arrayContaining(['reason', 'note', 'scheduledAt']));
  });

  it('answers a malformed %-escape or a NUL in a path id with 400, never 500', async () => {
    for (const path of [
      '/v1/orders/%E0%A4%A/recordings',
      '/v1/recordings/%E0%A4%A/upload-state',
      `/v1/access-requests/%E0%A4%A`,
      `/v1/access-requests/${grant.requestId}/recordings/%ZZ/audio`,
      '/v1/orders/a%00b/recordings',
      '/v1/access-requests/a%ED%A0%80b',
    ]) {
      const res = await request(vault.server).get(path).set(bearer(grant.staffToken));
      expect(res.status, path).toBe(400);
      expect(res.body.error.field, path).toMatch(/^(path|orderId|recordingId|id)$/);
    }
  });

  it('accepts the bearer scheme in any letter case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await request(vault.server)
        .get('/v1/access-requests')
        .set('authorization', `${scheme} ${grant.staffToken}`);
      expect(res.status, scheme).toBe(200);
    }
    const wrong = await request(vault.server)
      .get('/v1/access-requests')
      .set('authorization', `Basic ${grant.staffToken}`);
    expect(wrong.status).toBe(401);
  });

  it('audits 401, 403, 400 and 404 on paths whose id holds NUL or cannot be decoded, escaped, and the log still verifies', async () => {
    const probes: [string, string | null, number][] = [
      ['/v1/access-requests/x%00y', null, 401],
      ['/v1/access-requests/x%00y', visit.beauticianToken, 403],
      ['/v1/orders/o%00p/recordings', visit.platformToken, 403],
      ['/v1/orders/%E0%A4%A/recordings', null, 401],
      ['/v1/orders/%E0%A4%A/recordings', grant.staffToken, 400],
      [`/v1/recordings/r%00/upload-state`, grant.staffToken, 403],
      ['/v1/no-such-route/a%00b', grant.staffToken, 404],
    ];
    for (const [path, token, status] of probes) {
      let req = request(vault.server).get(path);
      if (token) req = req.set(bearer(token));
      expect((await req).status, path).toBe(status);
    }
    const refused = (await auditEntries(vault, auditor)).filter((e) => e.action === 'request.refused');
    for (const [path, , status] of probes) {
      const hit = refused.find((e) => e.details.path === path && e.details.status === status);
      expect(hit, `${status} ${path}`).toBeDefined();
      expect(hit?.orderId).toBeNull();
    }
    const verify = await request(vault.server).get('/v1/audit/verify').set(bearer(auditor));
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
  });
});
