import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DomainDeps } from '../../src/domain/deps.js';
import { createEpochKeys, epochKeyForWrapping } from '../../src/domain/epoch-keyring.js';
import { destroyEpochKeyIfDue } from '../../src/domain/epoch-shredder.js';
import { epochContaining } from '../../src/domain/epochs.js';
import { followRetention } from '../../src/domain/order-key-epochs.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { insertHold } from '../../src/store/db/holds.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { openEpochKeyStore } from '../../src/store/epoch-key-store.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { epochOf, epochRow, shredReceipts } from '../helpers/epochs.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const WINDOW = 10 * DAY;
const ENV = { VAULT_BACKUP_WINDOW: '10d' };

/** Epoch key destruction with several servers, and across crashes. */
describe.each(STORE_PAIRS)('epoch key sweepers on %s', (pair) => {
  let vault: TestVault;
  beforeEach(async () => {
    vault = await startTestVault(pair, ENV);
  });
  afterEach(async () => vault?.close());

  /** A second vault server: its own connection pool and its own epoch key store client, same data. */
  async function secondServer(): Promise<{ deps: DomainDeps; close(): Promise<void> }> {
    const db = openPostgres({ connectionString: TEST_DATABASE_URL, schema: vault.stores.postgresSchema });
    const store = await openEpochKeyStore(vault.config);
    const deps = { ...vault.deps, db, epochKeys: createEpochKeys(store, vault.deps.keyring, vault.clock) };
    return {
      deps,
      async close() {
        await store.close();
        await db.close();
      },
    };
  }

  it('destroys each epoch once, with one receipt, when two servers sweep at the same time', async () => {
    const orders: string[] = [];
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i < 2; i++) {
        const visit = await newVisit(vault);
        await uploadSealed(vault, visit, new Uint8Array(300).fill(day * 2 + i), 100);
        orders.push(visit.orderId);
      }
      vault.clock.advance(DAY);
    }
    const epochs = [...new Set(await Promise.all(orders.map((o) => epochOf(vault, o))))] as string[];
    expect(epochs.length).toBeGreaterThanOrEqual(3);
    vault.clock.advance(8 * DAY + WINDOW + DAY);

    const other = await secondServer();
    try {
      const [a, b] = await Promise.all([runSweep(vault.deps), runSweep(other.deps)]);
      expect(a.expired + b.expired).toBe(orders.length);
      const stored = await vault.deps.epochKeys.store.list();
      for (const e of epochs) expect(stored).not.toContain(e);
      const receipts = await shredReceipts(vault);
      const destroyed = receipts.map((r) => r.details.epoch as string);
      expect(new Set(destroyed).size).toBe(destroyed.length);
      for (const e of epochs) expect(destroyed).toContain(e);
      expect(a.epochKeysDestroyed + b.epochKeysDestroyed).toBe(destroyed.length);
      const covered = receipts.flatMap((r) => r.details.orders as string[]);
      for (const o of orders) expect(covered).toContain(o);
      // A third sweep finds nothing left to do.
      expect((await runSweep(other.deps)).epochKeysDestroyed).toBe(0);
    } finally {
      await other.close();
    }
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
    const metrics = await request(vault.server).get('/metrics');
    expect(metrics.text).toMatch(/vault_epoch_keys_destroyed_total\{kind="epoch"\} [1-9]/);
    expect(metrics.text).toMatch(/vault_epoch_key_oldest_age_seconds \d/);
  });

  it('never destroys a key an order still needs across a crash between re-wrapping and destroying', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    const first = (await epochOf(vault, visit.orderId))!;
    const firstEnds = (await epochRow(vault, first))!.ends_at!;
    const security = await vault.addPrincipal({ id: `sec-crash-${pair.replace('+', '-')}`, roles: ['security_head'] });

    // A crash inside the re-wrapping transaction (a hold being placed): it rolls back, the order stays where it was.
    await expect(
      vault.deps.db.transaction(async (tx) => {
        await insertHold(tx, {
          id: 'hold_crashed',
          orderId: visit.orderId,
          reason: 'dispute',
          until: new Date(vault.clock.now().getTime() + 40 * DAY),
          note: null,
          placedBy: `sec-crash-${pair.replace('+', '-')}`,
          placedAt: vault.clock.now(),
        });
        await followRetention(vault.deps, tx, visit.orderId, 'hold.placed');
        throw new Error('the server died here');
      }),
    ).rejects.toThrow('the server died here');
    expect(await epochOf(vault, visit.orderId)).toBe(first);

    // The re-wrap commits (a hold to 40 days out), and the server dies before any sweep.
    const until = new Date(vault.clock.now().getTime() + 40 * DAY);
    const placed = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(security))
      .send({ reason: 'dispute', until: until.toISOString() });
    expect(placed.status).toBe(201);
    const moved = (await epochOf(vault, visit.orderId))!;
    expect(moved).toBe(epochContaining(until, DAY).id);
    // "Restart": a new server on the same stores, nothing of the old one's memory (its cached keys) carried over.
    const restarted = await startTestVault(pair, ENV, { stores: vault.stores });
    try {
      // Past the first epoch's end and the backup window: the first key goes, the order still plays.
      restarted.clock.set(new Date(firstEnds.getTime() + WINDOW + MINUTE));
      const report = await runSweep(restarted.deps);
      expect(report.epochKeysDestroyed).toBeGreaterThanOrEqual(1);
      expect(await restarted.deps.epochKeys.store.list()).not.toContain(first);
      expect(await restarted.deps.epochKeys.store.list()).toContain(moved);
      const grant = await approvedRequest(restarted, visit.orderId);
      expect((await play(restarted, grant, rec)).status).toBe(200);
    } finally {
      await restarted.close();
    }
  });

  it('does not destroy or receipt an epoch twice for a server acting on a stale list of due epochs', async () => {
    const visit = await newVisit(vault);
    await uploadSealed(vault, visit);
    const epoch = (await epochOf(vault, visit.orderId))!;
    const ends = (await epochRow(vault, epoch))!.ends_at!;
    vault.clock.set(new Date(ends.getTime() + WINDOW));
    await runSweep(vault.deps); // expires the recording; the epoch is destroyed here or just below
    const other = await secondServer();
    try {
      // Both servers saw the epoch due before either destroyed it; they act one after the other.
      const outcomes = [await destroyEpochKeyIfDue(vault.deps, epoch), await destroyEpochKeyIfDue(other.deps, epoch)];
      expect(outcomes.filter((o) => o !== null).length).toBeLessThanOrEqual(1);
    } finally {
      await other.close();
    }
    expect((await shredReceipts(vault)).filter((r) => r.details.epoch === epoch)).toHaveLength(1);
  });

  it('finishes a destruction that crashed after the key was deleted, with exactly one receipt', async () => {
    const visit = await newVisit(vault);
    await uploadSealed(vault, visit);
    const epoch = (await epochOf(vault, visit.orderId))!;
    const ends = (await epochRow(vault, epoch))!.ends_at!;
    vault.clock.set(new Date(ends.getTime() + WINDOW));
    // The crashed run got as far as deleting the key from the store; its transaction never committed.
    await vault.deps.epochKeys.store.destroy(epoch);
    vault.deps.epochKeys.forget(epoch);
    const report = await runSweep(vault.deps);
    expect(report.epochKeysDestroyed).toBe(1);
    expect((await epochRow(vault, epoch))?.destroyed_at).toEqual(vault.clock.now());
    expect((await shredReceipts(vault)).filter((r) => r.details.epoch === epoch)).toHaveLength(1);
    expect((await runSweep(vault.deps)).epochKeysDestroyed).toBe(0);
    expect((await shredReceipts(vault)).filter((r) => r.details.epoch === epoch)).toHaveLength(1);
  });

  it('adopts a key stored by a transaction that rolled back, and destroys it on time', async () => {
    const ref = epochContaining(new Date(vault.clock.now().getTime() + 3 * DAY), DAY);
    await expect(
      vault.deps.db.transaction(async (tx) => {
        await epochKeyForWrapping(vault.deps, tx, ref, vault.clock.now());
        throw new Error('rolled back after the key was stored');
      }),
    ).rejects.toThrow('rolled back');
    expect(await vault.deps.epochKeys.store.list()).toContain(ref.id);
    expect(await epochRow(vault, ref.id)).toBeUndefined();
    await runSweep(vault.deps);
    expect((await epochRow(vault, ref.id))?.ends_at).toEqual(ref.endsAt);
    vault.clock.set(new Date(ref.endsAt!.getTime() + WINDOW));
    expect((await runSweep(vault.deps)).epochKeysDestroyed).toBe(1);
    expect(await vault.deps.epochKeys.store.list()).not.toContain(ref.id);
    expect((await shredReceipts(vault)).find((r) => r.details.epoch === ref.id)?.details.orders).toEqual([]);
  });
});
