import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { wrapSecretKey } from '../../src/crypto/order-keys.js';
import { sodiumReady } from '../../src/crypto/sodium.js';
import {
  moveKekWrappedOrderKeys,
  moveOrderKeysIfNeeded,
  openOrderSecretKey,
} from '../../src/domain/order-key-epochs.js';
import { storedKekVersions } from '../../src/store/db/order-keys.js';
import { fakeAudio, newVisit } from '../helpers/actors.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * Orders from before epoch keys had their secret key wrapped by the KEK
 * directly. At start-up they move under epoch keys, a batch per transaction:
 * resumable after a crash, playable throughout.
 */
describe('moving KEK-wrapped order keys under epoch keys (postgres+fs)', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  /** Rewrites an order's row the way the vault stored it before epoch keys. */
  async function asBeforeEpochs(orderId: string): Promise<void> {
    const secretKey = await openOrderSecretKey(vault.deps, orderId);
    const legacy = wrapSecretKey(vault.deps.keyring, orderId, secretKey);
    sodiumReady().memzero(secretKey);
    await vault.deps.db.query(
      'UPDATE orders SET wrapped_secret_key = $2, kek_version = $3, epoch_id = NULL WHERE order_id = $1',
      [orderId, Buffer.from(legacy.wrappedSecretKey), legacy.kekVersion],
    );
  }

  it('moves them in resumable batches, plays them before and after, and audits each move', async () => {
    const visits = [];
    for (let i = 0; i < 3; i++) {
      const visit = await newVisit(vault);
      const audio = fakeAudio(12_000, 70 + i);
      const rec = await uploadSealed(vault, visit, audio);
      await asBeforeEpochs(visit.orderId);
      visits.push({ visit, audio, rec });
    }
    const ids = visits.map((v) => v.visit.orderId);
    expect(await storedKekVersions(vault.deps.db)).toEqual([{ version: 1, orders: 3 }]);

    // Half-way states play: a KEK-wrapped key still opens.
    const first = visits[0]!;
    const grant = await approvedRequest(vault, first.visit.orderId);
    expect((await play(vault, grant, first.rec)).body).toEqual(Buffer.from(first.audio));

    // A crash inside a batch rolls the whole batch back.
    await expect(
      vault.deps.db.transaction(async (tx) => {
        await moveOrderKeysIfNeeded(vault.deps, tx, ids, 'migration');
        throw new Error('the server died here');
      }),
    ).rejects.toThrow('the server died here');
    expect(await storedKekVersions(vault.deps.db)).toEqual([{ version: 1, orders: 3 }]);

    // One batch of one commits, then the server stops.
    expect(await moveKekWrappedOrderKeys(vault.deps, { batchSize: 1, maxBatches: 1 })).toBe(1);
    expect(await storedKekVersions(vault.deps.db)).toEqual([{ version: 1, orders: 2 }]);

    // The next start moves the rest before it serves.
    const restarted = await startTestVault('postgres+fs', {}, { stores: vault.stores });
    try {
      expect(await storedKekVersions(restarted.deps.db)).toEqual([]);
      const rows = await restarted.deps.db.query<{ epoch_id: string | null; kek_version: number | null }>(
        'SELECT epoch_id, kek_version FROM orders WHERE order_id = ANY($1)',
        [ids],
      );
      for (const r of rows) expect(r).toEqual({ epoch_id: expect.any(String), kek_version: null });
      for (const { visit, audio, rec } of visits) {
        const moves = (await listAudit(restarted.deps.db, { orderId: visit.orderId, limit: 100 })).entries.filter(
          (e) => e.action === 'order.key_moved' && e.details.cause === 'migration',
        );
        expect(moves.map((m) => m.details)).toEqual([{ from: null, to: expect.any(String), cause: 'migration' }]);
        const g = await approvedRequest(restarted, visit.orderId);
        const played = await play(restarted, g, rec);
        expect(played.status).toBe(200);
        expect(played.body).toEqual(Buffer.from(audio));
      }
    } finally {
      await restarted.close();
    }
  });
});
