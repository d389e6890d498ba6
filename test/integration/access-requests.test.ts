import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireStaleRequests } from '../../src/domain/access-requests.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { signedDecision } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;

/** Filing, the two sign-offs, rejection, expiry, visibility and the audit story, through HTTP. */
describe.each(STORE_PAIRS)('access requests on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  let orderId: string;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    vault = await startTestVault(pair);
    ({ orderId } = await newVisit(vault));
    const cast = [
      ['staff', ['dispute_staff'], 'disputes'],
      ['staff2', ['dispute_staff'], 'disputes'],
      ['salesStaff', ['dispute_staff'], 'sales'],
      ['dh', ['department_head'], 'disputes'],
      ['odh', ['department_head'], 'sales'],
      ['sh', ['security_head'], 'security'],
      ['sh2', ['security_head'], 'security'],
      ['both', ['department_head', 'security_head'], 'disputes'],
      ['staffHead', ['dispute_staff', 'department_head', 'security_head'], 'disputes'],
      ['auditor', ['auditor'], 'audit'],
    ] as const;
    for (const [name, roles, department] of cast)
      t[name] = await vault.addPrincipal({ id: `${name}-${tag}`, roles: [...roles], department });
  });
  afterAll(async () => vault?.close());

  const file = (token: string, body: Record<string, unknown> = {}) =>
    request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(token))
      .send({
        orderId,
        purpose: 'dispute',
        reason: 'customer says the service was cut short',
        ticketRef: 'DSP-1042',
        ...body,
      });
  // The digest is read as the auditor, so that a decider who may not read the request leaves no extra refusal.
  const decide = async (token: string, id: string, decision: 'approve' | 'reject', comment = 'checked the ticket') => {
    const digest = (await read(t.auditor!, id)).body.digest as string | undefined;
    return request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(token))
      .send(await signedDecision(vault.baseUrl, token, id, decision, comment, { digest: digest ?? '0'.repeat(64) }));
  };
  const read = (token: string, id: string) => request(vault.server).get(`/v1/access-requests/${id}`).set(bearer(token));
  const list = (token: string, q = '') => request(vault.server).get(`/v1/access-requests${q}`).set(bearer(token));
  const newRequest = async (token = t.staff!) => {
    const res = await file(token);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it('files a request for dispute staff and returns it pending with its expiry', async () => {
    const res = await file(t.staff!);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^req_[0-9a-f]{32}$/),
      orderId,
      requesterId: `staff-${tag}`,
      requesterName: `staff-${tag}`,
      purpose: 'dispute',
      reason: 'customer says the service was cut short',
      ticketRef: 'DSP-1042',
      status: 'pending',
      createdAt: vault.clock.now().toISOString(),
      expiresAt: new Date(vault.clock.now().getTime() + 72 * HOUR).toISOString(),
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      decisions: [],
    });
    const again = await read(t.staff!, res.body.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
  });

  it('checks the filing: dispute staff only, an existing order, a listed purpose, a reason and a ticket', async () => {
    expect((await file(t.dh!)).status).toBe(403);
    expect((await file(t.auditor!)).status).toBe(403);
    expect((await file(t.staff!, { orderId: 'no-such-order' })).status).toBe(404);
    for (const [body, field] of [
      [{ purpose: 'curiosity' }, 'purpose'],
      [{ reason: '   ' }, 'reason'],
      [{ ticketRef: '' }, 'ticketRef'],
      [{ ticketRef: undefined }, 'ticketRef'],
      [{ extra: 1 }, 'extra'],
    ] as const) {
      const res = await file(t.staff!, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field).toBe(field);
    }
    for (const purpose of ['dispute', 'safety', 'compliance_check', 'legal_request'])
      expect((await file(t.staff!, { purpose })).status).toBe(201);
  });

  it('is approved by a head of the requester department and a security head, in either order', async () => {
    for (const [first, second] of [
      ['dh', 'sh'],
      ['sh', 'dh'],
    ] as const) {
      const id = await newRequest();
      const a = await decide(t[first]!, id, 'approve', `ok from ${first}`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({
        status: 'pending',
        decisions: [
          {
            deciderId: `${first}-${tag}`,
            decision: 'approve',
            countedAs: first === 'dh' ? 'department_head' : 'security_head',
            comment: `ok from ${first}`,
          },
        ],
      });
      expect(a.body.approvedAt).toBeUndefined();
      vault.clock.advance(60_000);
      const b = await decide(t[second]!, id, 'approve');
      expect(b.status).toBe(200);
      expect(b.body.status).toBe('approved');
      expect(b.body.decisions.map((d: { countedAs: string }) => d.countedAs).sort()).toEqual([
        'department_head',
        'security_head',
      ]);
      expect(b.body.approvedAt).toBe(vault.clock.now().toISOString());
      expect(b.body.grantExpiresAt).toBe(new Date(vault.clock.now().getTime() + 24 * HOUR).toISOString());
      expect((await read(t.staff!, id)).body).toEqual(b.body);
    }
  });

  it('refuses deciders who may not decide: other roles, another department, the requester', async () => {
    const id = await newRequest();
    expect((await decide(t.staff!, id, 'approve')).status).toBe(403);
    expect((await decide(t.auditor!, id, 'approve')).status).toBe(403);
    const other = await decide(t.odh!, id, 'approve');
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('not_your_department');
    expect((await decide(t.odh!, id, 'reject')).status).toBe(403);
    // A requester who also holds both manager roles still cannot sign their own request.
    const own = await newRequest(t.staffHead!);
    const self = await decide(t.staffHead!, own, 'approve');
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('own_request');
    expect((await read(t.staff!, id)).body).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('never approves on two sign-offs of the same kind or from one person', async () => {
    const id = await newRequest();
    expect((await decide(t.sh!, id, 'approve')).status).toBe(200);
    const dup = await decide(t.sh2!, id, 'approve');
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('sign_off_already_given');
    const twice = await decide(t.sh!, id, 'approve');
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('already_decided');
    expect((await read(t.staff!, id)).body).toMatchObject({
      status: 'pending',
      decisions: [{ deciderId: `sh-${tag}` }],
    });
  });

  it('counts a person holding both roles once', async () => {
    const id = await newRequest();
    const first = await decide(t.both!, id, 'approve');
    expect(first.body).toMatchObject({ status: 'pending', decisions: [{ countedAs: 'department_head' }] });
    const again = await decide(t.both!, id, 'approve');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_decided');
    const done = await decide(t.sh!, id, 'approve');
    expect(done.body).toMatchObject({
      status: 'approved',
      decisions: [{ countedAs: 'department_head' }, { countedAs: 'security_head' }],
    });
  });

  it('is rejected by one rejection, after which every decision is a conflict', async () => {
    const id = await newRequest();
    expect((await decide(t.dh!, id, 'approve')).status).toBe(200);
    const rejected = await decide(t.sh!, id, 'reject', 'no ticket evidence');
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    expect(rejected.body.grantExpiresAt).toBeUndefined();
    const late = await decide(t.sh2!, id, 'approve');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('request_rejected');
    const onApproved = await newRequest();
    await decide(t.dh!, onApproved, 'approve');
    await decide(t.sh!, onApproved, 'approve');
    const afterApproval = await decide(t.sh2!, onApproved, 'reject');
    expect(afterApproval.status).toBe(409);
    expect(afterApproval.body.error.code).toBe('request_approved');
  });

  it('requires a decision and a comment', async () => {
    const id = await newRequest();
    const noComment = await request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(t.dh!))
      .send({ decision: 'approve' });
    expect(noComment.status).toBe(400);
    expect(noComment.body.error.field).toBe('comment');
    const bad = await request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(t.dh!))
      .send({ decision: 'maybe', comment: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('decision');
    expect((await decide(t.dh!, 'req_unknown', 'approve')).status).toBe(404);
  });

  it('expires a request left undecided for VAULT_REQUEST_TTL: 410 to deciders, expired to readers', async () => {
    const read1 = await newRequest();
    const decided = await newRequest();
    const swept = await newRequest();
    expect((await decide(t.dh!, decided, 'approve')).status).toBe(200);
    vault.clock.advance(72 * HOUR - 1);
    expect((await read(t.staff!, read1)).body.status).toBe('pending');
    vault.clock.advance(1);
    const r = await read(t.staff!, read1);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('expired');
    const late = await decide(t.sh!, decided, 'approve');
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('request_expired');
    // The refusal did not roll back the mark: the row itself says expired now.
    const [row] = await vault.deps.db.query<{ status: string }>('SELECT status FROM access_requests WHERE id = $1', [
      decided,
    ]);
    expect(row?.status).toBe('expired');
    expect(await expireStaleRequests(vault.deps)).toBeGreaterThanOrEqual(1);
    expect(await expireStaleRequests(vault.deps)).toBe(0);
    expect((await read(t.staff!, swept)).body.status).toBe('expired');
    expect((await decide(t.dh!, swept, 'reject')).status).toBe(410);
  });

  it('shows staff their own requests, department heads their department, auditors and security heads all', async () => {
    const mine = await newRequest(t.staff!);
    const colleague = await newRequest(t.staff2!);
    const sales = await newRequest(t.salesStaff!);
    const ids = async (token: string) =>
      ((await list(token, `?orderId=${orderId}&limit=1000`)).body.requests as { id: string }[]).map((r) => r.id);

    const staffSees = await ids(t.staff!);
    expect(staffSees).toContain(mine);
    expect(staffSees).not.toContain(colleague);
    expect(staffSees).not.toContain(sales);
    expect((await read(t.staff!, colleague)).status).toBe(403);

    const dhSees = await ids(t.dh!);
    expect(dhSees).toEqual(expect.arrayContaining([mine, colleague]));
    expect(dhSees).not.toContain(sales);
    expect((await read(t.dh!, sales)).status).toBe(403);
    expect(await ids(t.odh!)).toContain(sales);
    expect(await ids(t.odh!)).not.toContain(mine);

    for (const who of ['auditor', 'sh'] as const)
      expect(await ids(t[who]!)).toEqual(expect.arrayContaining([mine, colleague, sales]));
    expect((await read(t.auditor!, sales)).status).toBe(200);

    const visit = await newVisit(vault);
    expect((await list(visit.beauticianToken)).status).toBe(403);
    expect((await list(visit.platformToken)).status).toBe(403);
    expect((await read(visit.beauticianToken, mine)).status).toBe(403);

    const pending = (await list(t.auditor!, `?orderId=${orderId}&status=pending&limit=1000`)).body.requests as {
      status: string;
    }[];
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((r) => r.status === 'pending')).toBe(true);
    expect((await list(t.auditor!, '?status=unknown')).status).toBe(400);
    expect((await list(t.auditor!, '?limit=0')).status).toBe(400);
  });

  it('approves exactly once when the two heads sign at the same instant', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => newRequest()));
    const results = await Promise.all(
      ids.flatMap((id) => [
        decide(t.dh!, id, 'approve'),
        decide(t.sh!, id, 'approve'),
        decide(t.both!, id, 'approve'),
        decide(t.dh!, id, 'approve'),
      ]),
    );
    for (const [i, id] of ids.entries()) {
      const mine = results.slice(i * 4, i * 4 + 4);
      // Exactly two decisions are recorded (dh at most once); every other attempt is a conflict, never an error.
      expect(mine.filter((r) => r.status === 200)).toHaveLength(2);
      expect(mine.filter((r) => r.status === 409)).toHaveLength(2);
      expect([mine[0]!.status, mine[3]!.status]).not.toEqual([200, 200]);
      const final = (await read(t.staff!, id)).body;
      expect(final.status).toBe('approved');
      expect(final.decisions).toHaveLength(2);
      expect(new Set(final.decisions.map((d: { countedAs: string }) => d.countedAs)).size).toBe(2);
      expect(new Set(final.decisions.map((d: { deciderId: string }) => d.deciderId)).size).toBe(2);
      const transitions = mine.filter((r) => r.status === 200 && r.body.status === 'approved');
      expect(transitions).toHaveLength(1);
      const [rows] = await vault.deps.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'access_request.decided' AND details->>'requestId' = $1 AND details->>'status' = 'approved'`,
        [id],
      );
      expect(rows?.n).toBe(1);
    }
  });

  it("tells an order's whole story in the audit log", async () => {
    const id = await newRequest();
    await decide(t.odh!, id, 'approve');
    await decide(t.dh!, id, 'approve');
    await decide(t.sh!, id, 'approve');
    const res = await request(vault.server).get(`/v1/audit?orderId=${orderId}&limit=1000`).set(bearer(t.auditor!));
    expect(res.status).toBe(200);
    const entries = res.body.entries as { action: string; outcome: string; details: Record<string, unknown> }[];
    const story = entries.filter(
      (e) => e.details.requestId === id || (e.action === 'request.refused' && String(e.details.path).includes(id)),
    );
    expect(story.map((e) => [e.action, e.outcome])).toEqual([
      ['access_request.filed', 'ok'],
      ['request.refused', 'refused'],
      ['access_request.decided', 'ok'],
      ['access_request.decided', 'ok'],
    ]);
    expect(story[0]!.details).toMatchObject({ purpose: 'dispute', ticketRef: 'DSP-1042', reason: expect.any(String) });
    expect(story[3]!.details).toMatchObject({ decision: 'approve', countedAs: 'security_head', status: 'approved' });
    expect(entries.map((e) => e.action)).toContain('order.registered');
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });
});
