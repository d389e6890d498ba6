import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/domain/sweeper.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * SPEC step 8, holds: who lifts a legal hold, how long a hold may run
 * (VAULT_MAX_HOLD), and that a hold never brings back what has expired.
 */
describe.each(STORE_PAIRS)('holds on %s', (pair) => {
  let vault: TestVault;
  let securityHead: string;
  let officer: string;
  beforeAll(async () => {
    vault = await startTestVault(pair, { VAULT_MAX_HOLD: '30d' });
    const tag = pair.replace('+', '-');
    securityHead = await vault.addPrincipal({
      id: `hold-sec-${tag}`,
      roles: ['security_head'],
      department: 'security',
    });
    officer = await vault.addPrincipal({ id: `hold-officer-${tag}`, roles: ['dispute_staff'], department: 'disputes' });
  });
  afterAll(async () => vault?.close());

  const place = (token: string, orderId: string, body: object) =>
    request(vault.server).post(`/v1/orders/${orderId}/holds`).set(bearer(token)).send(body);
  const lift = (token: string, holdId: string) =>
    request(vault.server).delete(`/v1/holds/${holdId}`).set(bearer(token));
  const statuses = async (orderId: string) =>
    (await request(vault.server).get(`/v1/orders/${orderId}/recordings`).set(bearer(officer))).body.recordings.map(
      (r: { recordingId: string; status: string }) => [r.recordingId, r.status],
    );
  const later = (ms: number) => new Date(vault.clock.now().getTime() + ms).toISOString();

  it('a legal hold is lifted only by a security_head; other holds by the platform too', async () => {
    const visit = await newVisit(vault);
    const legal = await place(visit.platformToken, visit.orderId, { reason: 'legal', note: 'court order 17' });
    expect(legal.status).toBe(201);
    const refused = await lift(visit.platformToken, legal.body.id);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('legal_hold');
    const [row] = await vault.deps.db.query<{ lifted: boolean }>(
      'SELECT lifted_at IS NOT NULL AS lifted FROM holds WHERE id = $1',
      [legal.body.id],
    );
    expect(row?.lifted).toBe(false);
    expect((await lift(securityHead, legal.body.id)).status).toBe(200);

    const complaint = await place(securityHead, visit.orderId, { reason: 'complaint' });
    expect((await lift(visit.platformToken, complaint.body.id)).status).toBe(200);
  });

  it('until defaults to VAULT_MAX_HOLD and may not exceed it, except a legal hold, which may be open-ended', async () => {
    const visit = await newVisit(vault);
    const max = 30 * DAY;
    const byDefault = await place(visit.platformToken, visit.orderId, { reason: 'dispute' });
    expect(byDefault.status).toBe(201);
    expect(byDefault.body.until).toBe(later(max));
    expect((await place(visit.platformToken, visit.orderId, { reason: 'complaint', until: later(max) })).status).toBe(
      201,
    );
    for (const until of [later(max + 1000), '9999-12-31T23:59:59Z']) {
      const tooLong = await place(visit.platformToken, visit.orderId, { reason: 'bad_review', until });
      expect(tooLong.status, until).toBe(400);
      expect(tooLong.body.error.field).toBe('until');
    }
    const openEnded = await place(securityHead, visit.orderId, { reason: 'legal' });
    expect(openEnded.status).toBe(201);
    expect(openEnded.body.until).toBeNull();
    const farLegal = await place(securityHead, visit.orderId, { reason: 'legal', until: '9999-12-31T23:59:59Z' });
    expect(farLegal.status).toBe(201);
    expect(farLegal.body.until).toBe('9999-12-31T23:59:59.000Z');
  });

  it('a hold on a destroyed order answers 410, swept or only expired by time, and revives nothing', async () => {
    const swept = await newVisit(vault);
    await uploadSealed(vault, swept);
    const byTime = await newVisit(vault);
    const byTimeRec = await uploadSealed(vault, byTime);
    vault.clock.advance(7 * DAY + HOUR);
    expect((await runSweep(vault.deps)).expired).toBeGreaterThanOrEqual(2);
    const onSwept = await place(swept.platformToken, swept.orderId, { reason: 'complaint' });
    expect(onSwept.status).toBe(410);
    expect(onSwept.body.error.code).toBe('order_destroyed');
    expect(await statuses(byTime.orderId)).toEqual([[byTimeRec, 'expired']]);

    // Expired by time, not yet swept (the sweep above ran before this one's end).
    const late = await newVisit(vault);
    const lateRec = await uploadSealed(vault, late);
    vault.clock.advance(7 * DAY + HOUR);
    const onExpired = await place(late.platformToken, late.orderId, { reason: 'legal' });
    expect(onExpired.status).toBe(410);
    expect(await statuses(late.orderId)).toEqual([[lateRec, 'expired']]);
    expect(await vault.deps.blobs.list(`recordings/${lateRec}/`)).toEqual([]);
    expect(await vault.deps.db.query('SELECT id FROM holds WHERE order_id = $1', [late.orderId])).toEqual([]);
  });

  it('a hold on an order with one recording expired and one kept keeps the live one, not the expired one', async () => {
    const visit = await newVisit(vault);
    const old = await uploadSealed(vault, visit);
    vault.clock.advance(5 * DAY);
    const fresh = await uploadSealed(vault, visit);
    vault.clock.advance(3 * DAY);
    const hold = await place(visit.platformToken, visit.orderId, { reason: 'complaint' });
    expect(hold.status).toBe(201);
    vault.clock.advance(10 * DAY);
    const listed = new Map(await statuses(visit.orderId));
    expect(listed.get(old)).toBe('expired');
    expect(listed.get(fresh)).toBe('sealed');
    expect(await vault.deps.blobs.list(`recordings/${old}/`)).toEqual([]);
    expect((await vault.deps.blobs.list(`recordings/${fresh}/`)).length).toBeGreaterThan(0);
  });
});
