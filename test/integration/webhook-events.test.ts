import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/domain/sweeper.js';
import { deliverDue, type WebhookEvent } from '../../src/domain/webhooks.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';
import { receiver, type VerifiedEvent, verifyAll } from '../helpers/webhook-receiver.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * SPEC "Notifications": each event is written with its action and reaches a
 * real receiver signed (verified with standardwebhooks), carrying ids, times,
 * roles, purpose and status only. One vault for the file; the ManualClock
 * moves time.
 */
describe('webhook events', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => vault?.close());

  /** Subscribes a fresh receiver to `events`, runs `act`, delivers everything due, and returns what arrived verified. */
  async function capture(events: WebhookEvent[], act: () => Promise<void>): Promise<VerifiedEvent[]> {
    const hook = await receiver();
    try {
      const made = await request(vault.server)
        .post('/v1/webhooks')
        .set(bearer(vault.adminToken))
        .send({ url: hook.url, events });
      expect(made.status).toBe(201);
      await act();
      while ((await deliverDue(vault.deps)) > 0);
      await request(vault.server).delete(`/v1/webhooks/${made.body.id}`).set(bearer(vault.adminToken));
      return verifyAll(made.body.secret as string, hook.got);
    } finally {
      await hook.close();
    }
  }

  it('hold.placed and hold.lifted name the hold, its order, reason and times, never its note', async () => {
    const visit = await newVisit(vault);
    let holdId = '';
    const events = await capture(['hold.placed', 'hold.lifted'], async () => {
      const placed = await request(vault.server)
        .post(`/v1/orders/${visit.orderId}/holds`)
        .set(bearer(visit.platformToken))
        .send({ reason: 'complaint', note: 'SECRET-HOLD-NOTE' });
      expect(placed.status).toBe(201);
      holdId = placed.body.id as string;
      const lifted = await request(vault.server).delete(`/v1/holds/${holdId}`).set(bearer(visit.platformToken));
      expect(lifted.status).toBe(200);
    });
    expect(events.map((e) => e.type)).toEqual(['hold.placed', 'hold.lifted']);
    const at = vault.clock.now().toISOString();
    expect(events[0]?.data).toEqual({
      holdId,
      orderId: visit.orderId,
      reason: 'complaint',
      until: expect.any(String),
      placedBy: expect.any(String),
      placedAt: at,
    });
    expect(events[1]?.data).toEqual({
      holdId,
      orderId: visit.orderId,
      reason: 'complaint',
      liftedBy: events[0]?.data.placedBy,
      liftedAt: at,
    });
    expect(JSON.stringify(events)).not.toContain('SECRET-HOLD-NOTE');
    expect(JSON.stringify(events)).not.toContain(visit.platformToken);
  });

  it('recording.expired is sent once per recording, however many sweeps run', async () => {
    const visit = await newVisit(vault);
    const recordingIds = [await uploadSealed(vault, visit), await uploadSealed(vault, visit)];
    const events = await capture(['recording.expired'], async () => {
      vault.clock.advance(7 * DAY + HOUR);
      await Promise.all([runSweep(vault.deps), runSweep(vault.deps)]);
      await runSweep(vault.deps);
    });
    const mine = events.filter((e) => e.data.orderId === visit.orderId);
    expect(mine.map((e) => e.data.recordingId).sort()).toEqual([...recordingIds].sort());
    for (const e of mine)
      expect(e.data).toEqual({
        recordingId: e.data.recordingId,
        orderId: visit.orderId,
        status: 'expired',
        expiredAt: vault.clock.now().toISOString(),
      });
  });

  it('recording.unsealed is sent at the first play of each recording under each grant, never again', async () => {
    const visit = await newVisit(vault);
    const [first, second] = [await uploadSealed(vault, visit), await uploadSealed(vault, visit)];
    const a = await approvedRequest(vault, visit.orderId);
    const b = await approvedRequest(vault, visit.orderId);
    const events = await capture(['recording.unsealed'], async () => {
      const plays = await Promise.all([play(vault, a, first), play(vault, a, first), play(vault, a, second)]);
      plays.push(await play(vault, a, first), await play(vault, b, first));
      expect(plays.map((p) => p.status)).toEqual([200, 200, 200, 200, 200]);
    });
    const seen = events.map((e) => `${e.data.requestId}/${e.data.recordingId}`).sort();
    expect(seen).toEqual([`${a.requestId}/${first}`, `${a.requestId}/${second}`, `${b.requestId}/${first}`].sort());
    expect(events[0]?.data).toEqual({
      recordingId: expect.any(String),
      orderId: visit.orderId,
      requestId: expect.any(String),
      requesterId: expect.any(String),
      department: 'disputes',
      purpose: 'dispute',
      status: 'approved',
      unsealedAt: vault.clock.now().toISOString(),
      grantExpiresAt: expect.any(String),
    });
    const everything = JSON.stringify(events);
    expect(everything).not.toContain('customer complaint');
    expect(everything).not.toContain(a.staffToken);
  });

  it('principal.role_granted is sent for each sign-off role a new principal is given, and for no other role', async () => {
    const events = await capture(['principal.role_granted'], async () => {
      await vault.addPrincipal({ id: 'rg-head', roles: ['department_head'], department: 'sales' });
      await vault.addPrincipal({ id: 'rg-both', roles: ['department_head', 'security_head'], department: 'security' });
      await vault.addPrincipal({ id: 'rg-staff', roles: ['dispute_staff'], department: 'sales' });
      await vault.addPrincipal({ id: 'rg-auditor', roles: ['auditor'], department: 'audit' });
    });
    expect(events.map((e) => [e.data.principalId, e.data.role]).sort()).toEqual([
      ['rg-both', 'department_head'],
      ['rg-both', 'security_head'],
      ['rg-head', 'department_head'],
    ]);
    expect(events.find((e) => e.data.principalId === 'rg-head')?.data).toEqual({
      principalId: 'rg-head',
      department: 'sales',
      role: 'department_head',
      roles: ['department_head'],
      grantedBy: 'bootstrap-admin',
      grantedAt: vault.clock.now().toISOString(),
    });
    expect(JSON.stringify(events)).not.toMatch(/vv_/);
  });

  it('access_request.expiring is sent once, 12 hours before a pending request expires', async () => {
    const { orderId } = await newVisit(vault);
    const staff = await vault.addPrincipal({ id: 'exp-staff', roles: ['dispute_staff'], department: 'disputes' });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(staff))
      .send({ orderId, purpose: 'dispute', reason: 'SECRET-EXPIRING-REASON', ticketRef: 'T-exp' });
    expect(filed.status).toBe(201);
    const expiresAt = new Date(filed.body.expiresAt as string);
    const mine = (events: VerifiedEvent[]) => events.filter((e) => e.data.requestId === filed.body.id);
    const early = await capture(['access_request.expiring'], async () => {
      vault.clock.set(new Date(expiresAt.getTime() - 12 * HOUR - 1));
      await runSweep(vault.deps);
    });
    expect(mine(early)).toEqual([]);
    const due = await capture(['access_request.expiring'], async () => {
      vault.clock.advance(1);
      await Promise.all([runSweep(vault.deps), runSweep(vault.deps)]);
      vault.clock.advance(HOUR);
      await runSweep(vault.deps);
    });
    expect(mine(due)).toHaveLength(1);
    expect(mine(due)[0]?.data).toMatchObject({
      requestId: filed.body.id,
      orderId,
      requesterId: 'exp-staff',
      department: 'disputes',
      purpose: 'dispute',
      status: 'pending',
      expiresAt: expiresAt.toISOString(),
    });
    expect(JSON.stringify(due)).not.toContain('SECRET-EXPIRING-REASON');
  });
});
