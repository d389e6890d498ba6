import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit } from '../helpers/actors.js';
import { decideSigned } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const MINUTE = 60_000;

/** What the console's lists need: paging, a deadline order, "awaiting me", and people's display names. */
describe.each(STORE_PAIRS)('access request lists on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  const orders: string[] = [];
  const t: Record<string, string> = {};

  beforeAll(async () => {
    vault = await startTestVault(pair);
    for (let i = 0; i < 2; i++) orders.push((await newVisit(vault)).orderId);
    const cast = [
      ['olga', 'Olga Officer', ['dispute_staff'], 'disputes'],
      ['otto', 'Otto Officer', ['dispute_staff'], 'disputes'],
      ['hana', 'Hana Head', ['department_head'], 'disputes'],
      ['hugo', 'Hugo Head', ['department_head', 'dispute_staff'], 'disputes'],
      ['sam', 'Sam Security', ['security_head'], 'security'],
      ['ada', 'Ada Auditor', ['auditor'], 'audit'],
    ] as const;
    for (const [id, name, roles, department] of cast)
      t[id] = await vault.addPrincipal({ id: `${id}-${tag}`, name, roles: [...roles], department });
  });
  afterAll(async () => vault?.close());

  const file = async (token: string, orderId: string, ticketRef: string) => {
    const res = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(token))
      .send({ orderId, purpose: 'dispute', reason: 'a complaint about the visit', ticketRef });
    expect(res.status).toBe(201);
    vault.clock.advance(MINUTE);
    return res.body.id as string;
  };
  const decide = (token: string, id: string, decision: 'approve' | 'reject') =>
    decideSigned(vault.baseUrl, token, id, decision, 'checked');
  const list = (token: string, q: Record<string, string>) =>
    request(vault.server).get('/v1/access-requests').query(q).set(bearer(token));
  const ids = (res: request.Response) => (res.body.requests as { id: string }[]).map((r) => r.id);

  it("pages an officer's own requests across orders, newest first, with the total and a status filter", async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await file(t.olga!, orders[i % 2]!, `MY-${i}`));
    await file(t.otto!, orders[0]!, 'OTHER');
    const newestFirst = [...mine].reverse();

    const first = await list(t.olga!, { limit: '2' });
    expect(first.status).toBe(200);
    expect(ids(first)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.total).toBe(5);
    expect(first.body.nextAfter).toBe(newestFirst[1]);
    const second = await list(t.olga!, { limit: '2', after: first.body.nextAfter });
    expect(ids(second)).toEqual(newestFirst.slice(2, 4));
    const last = await list(t.olga!, { limit: '2', after: second.body.nextAfter });
    expect(ids(last)).toEqual(newestFirst.slice(4));
    expect(last.body.nextAfter).toBeNull();

    expect((await decide(t.hana!, mine[0]!, 'reject')).status).toBe(200);
    const rejected = await list(t.olga!, { status: 'rejected' });
    expect(ids(rejected)).toEqual([mine[0]]);
    expect(rejected.body.total).toBe(1);
    const pending = await list(t.olga!, { status: 'pending' });
    expect(ids(pending)).toEqual(newestFirst.slice(0, 4));
  });

  it('sorts by deadline, nearest first, and pages in that order', async () => {
    const res = await list(t.sam!, { status: 'pending', sort: 'deadline', limit: '3' });
    expect(res.status).toBe(200);
    const expiries = (res.body.requests as { expiresAt: string }[]).map((r) => r.expiresAt);
    expect(expiries).toEqual([...expiries].sort());
    const next = await list(t.sam!, { status: 'pending', sort: 'deadline', limit: '3', after: res.body.nextAfter });
    const nextExpiries = (next.body.requests as { expiresAt: string }[]).map((r) => r.expiresAt);
    expect(nextExpiries.every((e) => e >= expiries.at(-1)!)).toBe(true);
    expect(res.body.total).toBe(res.body.requests.length + next.body.requests.length);
  });

  it('lists, with awaiting=me, only what this head may still sign', async () => {
    const fresh = await file(t.olga!, orders[0]!, 'QUEUE-1');
    const hugos = await file(t.hugo!, orders[1]!, 'QUEUE-2');
    const before = await list(t.hana!, { awaiting: 'me', sort: 'deadline' });
    expect(ids(before)).toContain(fresh);
    expect(ids(before)).toContain(hugos);
    expect(before.body.total).toBe(before.body.requests.length);
    // Hugo filed one and may not sign it; Hana signs one and it leaves her queue, not Sam's.
    expect(ids(await list(t.hugo!, { awaiting: 'me' }))).not.toContain(hugos);
    expect((await decide(t.hana!, fresh, 'approve')).status).toBe(200);
    const after = await list(t.hana!, { awaiting: 'me' });
    expect(ids(after)).not.toContain(fresh);
    expect(after.body.total).toBe(before.body.total - 1);
    expect(ids(await list(t.sam!, { awaiting: 'me' }))).toContain(fresh);
    // Hugo is the same department's head: the department slot is given, so it is not his to sign any more.
    expect(ids(await list(t.hugo!, { awaiting: 'me' }))).not.toContain(fresh);
    expect((await decide(t.sam!, fresh, 'approve')).body.status).toBe('approved');
    expect(ids(await list(t.sam!, { awaiting: 'me' }))).not.toContain(fresh);
    // An officer, who signs nothing, awaits nothing.
    expect((await list(t.olga!, { awaiting: 'me' })).body).toEqual({ requests: [], nextAfter: null, total: 0 });
  });

  it('leaves out of awaiting=me a request filed before the head held the role (signers are fixed at filing)', async () => {
    const filed = await file(t.olga!, orders[0]!, 'QUEUE-LATE');
    const late = await vault.addPrincipal({
      id: `hedda-${tag}`,
      name: 'Hedda Late Head',
      roles: ['department_head', 'security_head'],
      department: 'disputes',
    });
    expect(ids(await list(late, { awaiting: 'me' }))).not.toContain(filed);
    expect(ids(await list(t.hana!, { awaiting: 'me' }))).toContain(filed);
    const later = await file(t.otto!, orders[1]!, 'QUEUE-AFTER');
    expect(ids(await list(late, { awaiting: 'me' }))).toContain(later);
  });

  it('names the requester and the deciders on every read, and the actors of an audit page', async () => {
    const id = await file(t.olga!, orders[1]!, 'NAMES');
    const decided = await decide(t.hana!, id, 'approve');
    expect(decided.body.requesterName).toBe('Olga Officer');
    expect(decided.body.decisions).toEqual([
      expect.objectContaining({ deciderId: `hana-${tag}`, deciderName: 'Hana Head' }),
    ]);
    const read = await request(vault.server).get(`/v1/access-requests/${id}`).set(bearer(t.ada!));
    expect(read.body).toMatchObject({ requesterName: 'Olga Officer', decisions: [{ deciderName: 'Hana Head' }] });
    const listed = await list(t.ada!, { orderId: orders[1]!, limit: '1' });
    expect(listed.body.requests[0]).toMatchObject({ id, requesterName: 'Olga Officer' });

    const audit = await request(vault.server).get('/v1/audit').query({ orderId: orders[1]! }).set(bearer(t.ada!));
    expect(audit.status).toBe(200);
    expect(audit.body.names).toMatchObject({ [`olga-${tag}`]: 'Olga Officer', [`hana-${tag}`]: 'Hana Head' });
  });

  it('refuses a bad page: an unknown after, an unknown sort or awaiting', async () => {
    for (const [q, field] of [
      [{ after: 'req_00000000000000000000000000000000' }, 'after'],
      [{ sort: 'oldest' }, 'sort'],
      [{ awaiting: 'you' }, 'awaiting'],
    ] as const) {
      const res = await list(t.ada!, q);
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe(field);
    }
  });
});
