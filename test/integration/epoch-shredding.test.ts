import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import {
  backupDatabase,
  copyObjects,
  epochOf,
  epochRow,
  putObjects,
  restoredVault,
  shredReceipts,
} from '../helpers/epochs.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const WINDOW = 10 * DAY;
const ENV = { VAULT_BACKUP_WINDOW: '10d' };

/**
 * SPEC Crypto, epoch keys: shredding reaches database backups. A backup is a
 * real `pg_dump` of the vault's schema, restored with `psql` into a fresh
 * schema, and started beside the same objects, the same epoch key store and
 * the same KEK, with its clock set back to when the backup was taken: the
 * strongest position anyone restoring a backup can be in.
 */
describe.each(STORE_PAIRS)('epoch keys and database backups on %s', (pair) => {
  let vault: TestVault;
  beforeEach(async () => {
    vault = await startTestVault(pair, ENV);
  });
  afterEach(async () => vault?.close());

  const sweep = () => runSweep(vault.deps);
  const advanceTo = (at: Date) => vault.clock.set(at);

  it('a backup taken while a recording was live cannot decrypt it once its epoch and the backup window have passed, and says why', {
    timeout: 180_000,
  }, async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(30_000, 91);
    const rec = await uploadSealed(vault, visit, audio);
    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, rec)).status).toBe(200);
    const epoch = await epochOf(vault, visit.orderId);
    expect(epoch).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
    // The key is under the epoch of the recording's retainUntil (a UTC day), and only in the epoch key store.
    const [sealed] = await vault.deps.db.query<{ retain_until: Date }>(
      'SELECT retain_until FROM recordings WHERE id = $1',
      [rec],
    );
    expect(epoch).toBe(new Date(Math.floor(sealed!.retain_until.getTime() / DAY) * DAY).toISOString());
    expect(await vault.deps.epochKeys.store.list()).toContain(epoch);
    const [{ n: keyColumns } = { n: -1 }] = await vault.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns
          WHERE table_schema = $1 AND table_name = 'epochs' AND column_name ~ 'key'`,
      [vault.stores.postgresSchema],
    );
    expect(keyColumns).toBe(0);

    const backupAt = vault.clock.now();
    const backup = await backupDatabase(vault);
    const bucketCopy = await copyObjects(vault, rec);

    // Retention runs out: objects deleted, the live order key shredded; the epoch key stays for the window.
    vault.clock.advance(8 * DAY);
    expect(await sweep()).toMatchObject({ expired: 1, ordersShredded: 1, epochKeysDestroyed: 0 });
    expect(await epochOf(vault, visit.orderId)).toBeNull();
    expect(await vault.deps.epochKeys.store.list()).toContain(epoch);

    // Inside the window a restored backup still works: that is what the window is for (disaster recovery).
    const early = await restoredVault(pair, vault, backup, new Date(backupAt.getTime() + MINUTE));
    try {
      await putObjects(vault, bucketCopy);
      const played = await play(early.vault, grant, rec);
      expect(played.status).toBe(200);
      expect(Buffer.compare(played.body, Buffer.from(audio))).toBe(0);
    } finally {
      await early.close();
    }

    // The epoch ends, the backup window passes: the sweeper destroys the epoch key, with a signed receipt.
    const ends = (await epochRow(vault, epoch!))!.ends_at!;
    advanceTo(new Date(ends.getTime() + WINDOW - MINUTE));
    expect((await sweep()).epochKeysDestroyed).toBe(0);
    advanceTo(new Date(ends.getTime() + WINDOW));
    expect((await sweep()).epochKeysDestroyed).toBeGreaterThanOrEqual(1);
    expect(await vault.deps.epochKeys.store.list()).not.toContain(epoch);
    const receipt = (await shredReceipts(vault)).find((r) => r.details.epoch === epoch);
    expect(receipt).toMatchObject({
      action: 'epoch.destroyed',
      actorId: 'system:sweeper',
      details: { epoch, destroyedAt: vault.clock.now().toISOString(), signature: expect.any(String) },
    });
    expect(receipt?.details.orders).toContain(visit.orderId);

    // The same backup restored now, objects put back, clock set back: the key copy in it opens nothing.
    const late = await restoredVault(pair, vault, backup, new Date(backupAt.getTime() + MINUTE));
    try {
      await putObjects(vault, bucketCopy);
      const [row] = await late.vault.deps.db.query<{ wrapped_secret_key: Buffer | null; epoch_id: string }>(
        'SELECT wrapped_secret_key, epoch_id FROM orders WHERE order_id = $1',
        [visit.orderId],
      );
      expect(row?.wrapped_secret_key).not.toBeNull();
      expect(row?.epoch_id).toBe(epoch);
      const refused = await play(late.vault, grant, rec);
      expect(refused).toMatchObject({ status: 410, code: 'order_shredded' });
      expect(JSON.parse(refused.body.toString()).error.message).toContain(`epoch ${epoch}`);
      const audited = (await listAudit(late.vault.deps.db, { orderId: visit.orderId, limit: 200 })).entries.at(-1);
      expect(audited).toMatchObject({
        action: 'request.refused',
        recordingId: rec,
        details: { status: 410, code: 'order_shredded' },
      });
    } finally {
      await late.close();
    }
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });

  it('a held order outlives its first epoch and plays; once the hold is lifted and its epochs pass, it is gone from backups too', {
    timeout: 240_000,
  }, async () => {
    const security = await vault.addPrincipal({
      id: `sec-${pair.replace('+', '-')}`,
      roles: ['security_head'],
      department: 'sec',
    });
    const visit = await newVisit(vault);
    const audio = fakeAudio(20_000, 92);
    const rec = await uploadSealed(vault, visit, audio);
    const grant = await approvedRequest(vault, visit.orderId);
    const first = (await epochOf(vault, visit.orderId))!;
    const t0 = vault.clock.now();
    const beforeHold = await backupDatabase(vault);
    const bucketCopy = await copyObjects(vault, rec);

    // A legal hold without an end: the order's key moves under a key of the hold's own.
    const placed = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(security))
      .send({ reason: 'legal', note: 'court case 4711' });
    expect(placed.status).toBe(201);
    const holdKey = `hold:${placed.body.id}`;
    expect(await epochOf(vault, visit.orderId)).toBe(holdKey);
    expect(await vault.deps.epochKeys.store.list()).toContain(holdKey);
    const duringHold = await backupDatabase(vault);

    // Long past the first epoch and the backup window: that epoch is destroyed, naming the order; it still plays.
    const firstEnds = (await epochRow(vault, first))!.ends_at!;
    advanceTo(new Date(firstEnds.getTime() + WINDOW + MINUTE));
    const report = await sweep();
    expect(report).toMatchObject({ expired: 0, epochKeysDestroyed: 1, holdKeysDestroyed: 0 });
    expect((await shredReceipts(vault)).find((r) => r.details.epoch === first)?.details.orders).toEqual([
      visit.orderId,
    ]);
    const later = await approvedRequest(vault, visit.orderId);
    const played = await play(vault, later, rec);
    expect(played.status).toBe(200);
    expect(Buffer.compare(played.body, Buffer.from(audio))).toBe(0);

    // The backup from before the hold named the destroyed epoch: it is already useless.
    const old = await restoredVault(pair, vault, beforeHold, new Date(t0.getTime() + MINUTE));
    try {
      await putObjects(vault, bucketCopy);
      expect(await play(old.vault, grant, rec)).toMatchObject({ status: 410, code: 'order_shredded' });
    } finally {
      await old.close();
    }

    // The hold is lifted: the order moves to the epoch its retention now ends in (now: it ended long ago).
    const lifted = await request(vault.server).delete(`/v1/holds/${placed.body.id}`).set(bearer(security));
    expect(lifted.status).toBe(200);
    const after = (await epochOf(vault, visit.orderId))!;
    expect(after).not.toBe(holdKey);
    const liftedAt = vault.clock.now();
    expect((await epochRow(vault, holdKey))?.ends_at).toEqual(liftedAt);
    // Nothing keeps it once the grant has run out too: the sweeper expires it and shreds the live key.
    vault.clock.advance(DAY + MINUTE);
    expect(await sweep()).toMatchObject({ expired: 1, ordersShredded: 1 });
    expect(await play(vault, later, rec)).toMatchObject({ status: 410 });

    // The hold key lives for the backup window after the lift, then goes with its own receipt.
    advanceTo(new Date(liftedAt.getTime() + WINDOW - MINUTE));
    expect((await sweep()).holdKeysDestroyed).toBe(0);
    const afterEnds = (await epochRow(vault, after))!.ends_at!;
    advanceTo(new Date(Math.max(liftedAt.getTime(), afterEnds.getTime()) + WINDOW));
    const final = await sweep();
    expect(final.holdKeysDestroyed).toBe(1);
    const holdReceipt = (await shredReceipts(vault)).find((r) => r.details.epoch === holdKey);
    expect(holdReceipt).toMatchObject({
      action: 'hold_key.destroyed',
      details: { holdId: placed.body.id, orders: [visit.orderId] },
    });
    expect(await vault.deps.epochKeys.store.list()).toEqual([]);

    // The backup taken during the hold is now as useless as the first.
    const held = await restoredVault(pair, vault, duringHold, new Date(t0.getTime() + 2 * MINUTE));
    try {
      await putObjects(vault, bucketCopy);
      const refused = await play(held.vault, grant, rec);
      expect(refused).toMatchObject({ status: 410, code: 'order_shredded' });
      expect(JSON.parse(refused.body.toString()).error.message).toContain(holdKey);
    } finally {
      await held.close();
    }
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });
});
