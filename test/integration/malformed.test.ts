import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit, type Visit } from '../helpers/actors.js';
import { type Approval, approvedRequest, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * Malformed requests to the routes bad-input.test.ts does not cover (access
 * requests, decisions, audio, holds) and to headers: each a 4xx with the
 * error shape, none a 500, nothing stored changed.
 */
describe('malformed requests across the other routes', () => {
  let vault: TestVault;
  let visit: Visit;
  let grant: Approval;
  let rec: string;
  let head: string;

  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
    visit = await newVisit(vault);
    rec = await uploadSealed(vault, visit);
    // A head before the filing, so that it is among the request's signers (fixed at filing).
    head = await vault.addPrincipal({
      id: 'mal-head',
      roles: ['department_head', 'security_head'],
      department: 'disputes',
    });
    grant = await approvedRequest(vault, visit.orderId);
  });
  afterAll(async () => vault?.close());

  async function snapshot() {
    const out: Record<string, unknown> = {};
    for (const t of [
      'principals',
      'orders',
      'consents',
      'recordings',
      'chunks',
      'access_requests',
      'access_decisions',
      'holds',
    ])
      out[t] = await vault.deps.db.query(`SELECT * FROM ${t} ORDER BY 1`);
    return JSON.stringify(out);
  }

  const audio = (range?: string, qs = '') => {
    const r = request(vault.server)
      .get(`/v1/access-requests/${grant.requestId}/recordings/${rec}/audio${qs}`)
      .set(bearer(grant.staffToken));
    return range === undefined ? r : r.set('range', range);
  };
  const file = (body: unknown) =>
    request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(grant.staffToken))
      .send(body as object);
  const valid = () => ({ orderId: visit.orderId, purpose: 'dispute', reason: 'why', ticketRef: 'T-1' });

  const cases: [string, () => request.Test, number, string?][] = [
    ['request: unknown purpose', () => file({ ...valid(), purpose: 'curiosity' }), 400, 'purpose'],
    ['request: empty reason', () => file({ ...valid(), reason: '   ' }), 400, 'reason'],
    ['request: reason of 5000 characters', () => file({ ...valid(), reason: 'x'.repeat(5000) }), 400, 'reason'],
    [
      'request: missing ticketRef',
      () => file({ orderId: visit.orderId, purpose: 'dispute', reason: 'r' }),
      400,
      'ticketRef',
    ],
    ['request: unknown order', () => file({ ...valid(), orderId: 'no-such-order' }), 404],
    ['request: extra field', () => file({ ...valid(), approve: true }), 400, 'approve'],
    ['request: unicode order id', () => file({ ...valid(), orderId: 'заказ' }), 400, 'orderId'],
    [
      'request: emoji in ticketRef is fine but an RTL override in the id is not',
      () => file({ ...valid(), orderId: 'a\u202eb' }),
      400,
      'orderId',
    ],
    [
      'decision: unknown verb',
      () =>
        request(vault.server)
          .post(`/v1/access-requests/${grant.requestId}/decisions`)
          .set(bearer(head))
          .send({ decision: 'maybe', comment: 'c' }),
      400,
      'decision',
    ],
    [
      'decision: empty comment',
      () =>
        request(vault.server)
          .post(`/v1/access-requests/${grant.requestId}/decisions`)
          .set(bearer(head))
          .send({ decision: 'approve', comment: '' }),
      400,
      'comment',
    ],
    [
      'decision: unknown request',
      () =>
        request(vault.server)
          .post('/v1/access-requests/req_nope/decisions')
          .set(bearer(head))
          .send({ decision: 'approve', comment: 'c' }),
      404,
    ],
    [
      'decision: on a decided request',
      () =>
        request(vault.server)
          .post(`/v1/access-requests/${grant.requestId}/decisions`)
          .set(bearer(head))
          .send({ decision: 'reject', comment: 'late' }),
      409,
    ],
    ['audio: unknown format', () => audio(undefined, '?format=flac'), 400, 'format'],
    ['audio: repeated format', () => audio(undefined, '?format=mp3&format=wav'), 400, 'format'],
    ['audio: range past the end', () => audio('bytes=99999999-'), 416],
    ['audio: suffix range of zero', () => audio('bytes=-0'), 416],
    [
      'audio: unknown recording',
      () =>
        request(vault.server)
          .get(`/v1/access-requests/${grant.requestId}/recordings/rec_nope/audio`)
          .set(bearer(grant.staffToken)),
      404,
    ],
    [
      'audio: recording id with ..',
      () =>
        request(vault.server)
          .get(`/v1/access-requests/${grant.requestId}/recordings/a..b/audio`)
          .set(bearer(grant.staffToken)),
      400,
      'recordingId',
    ],
    [
      'hold: until not a time',
      () =>
        request(vault.server)
          .post(`/v1/orders/${visit.orderId}/holds`)
          .set(bearer(visit.platformToken))
          .send({ reason: 'legal', until: 'soon' }),
      400,
      'until',
    ],
    [
      'hold: note too long',
      () =>
        request(vault.server)
          .post(`/v1/orders/${visit.orderId}/holds`)
          .set(bearer(visit.platformToken))
          .send({ reason: 'legal', note: 'n'.repeat(2000) }),
      400,
      'note',
    ],
    [
      'hold: id with NUL',
      () => request(vault.server).delete('/v1/holds/a%00b').set(bearer(visit.platformToken)),
      400,
      'holdId',
    ],
    [
      'header: token with a space',
      () => request(vault.server).get('/v1/audit').set('authorization', 'Bearer abc def ghi jkl mno pqr'),
      401,
    ],
    [
      'header: lowercase bearer scheme and no token',
      () => request(vault.server).get('/v1/audit').set('authorization', 'bearer '),
      401,
    ],
    [
      'header: 8 kB token',
      () =>
        request(vault.server)
          .get('/v1/audit')
          .set('authorization', `Bearer ${'a'.repeat(8000)}`),
      401,
    ],
    [
      'header: charset the JSON parser does not take',
      () =>
        request(vault.server)
          .post('/v1/access-requests')
          .set(bearer(grant.staffToken))
          .set('content-type', 'application/json; charset=latin-9')
          .send(JSON.stringify(valid())),
      415,
    ],
    [
      'header: gzip that is not gzip',
      () =>
        request(vault.server)
          .post('/v1/access-requests')
          .set(bearer(grant.staffToken))
          .set('content-type', 'application/json')
          .set('content-encoding', 'gzip')
          .send('not gzip at all'),
      400,
    ],
  ];

  it.each(cases)('%s → 4xx', async (_name, send, status, field) => {
    const before = await snapshot();
    const res = await send();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (status !== 416 || res.body?.error)
      expect(res.body.error).toEqual(
        expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
      );
    if (field) expect(res.body.error.field).toBe(field);
    expect(await snapshot()).toBe(before);
  });

  it('a plain Range still works after all that', async () => {
    const res = await audio('bytes=0-9');
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toMatch(/^bytes 0-9\/\d+$/);
  });
});
