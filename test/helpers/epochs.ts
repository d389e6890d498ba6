import type { AuditEntry } from '../../src/audit/audit-log.js';
import { listAudit } from '../../src/audit/audit-log.js';
import { verifyShredReceipt } from '../../src/domain/shred-receipts.js';
import { dumpSchema, restoreSchema } from './pg-dump.js';
import { type StorePair, startTestVault, type TestVault } from './vault.js';

/** The epoch (or hold key) the order's secret key is wrapped under now; null once shredded. */
export async function epochOf(vault: TestVault, orderId: string): Promise<string | null> {
  const [row] = await vault.deps.db.query<{ epoch_id: string | null }>(
    'SELECT epoch_id FROM orders WHERE order_id = $1',
    [orderId],
  );
  if (!row) throw new Error(`no order ${orderId}`);
  return row.epoch_id;
}

export async function epochRow(
  vault: TestVault,
  id: string,
): Promise<{ ends_at: Date | null; destroyed_at: Date | null } | undefined> {
  const [row] = await vault.deps.db.query<{ ends_at: Date | null; destroyed_at: Date | null }>(
    'SELECT ends_at, destroyed_at FROM epochs WHERE id = $1',
    [id],
  );
  return row;
}

/** Shred receipts in the audit log (epoch.destroyed and hold_key.destroyed), each checked against the log key. */
export async function shredReceipts(vault: TestVault): Promise<AuditEntry[]> {
  const { entries } = await listAudit(vault.deps.db, { limit: 1000 });
  const receipts = entries.filter((e) => e.action === 'epoch.destroyed' || e.action === 'hold_key.destroyed');
  for (const r of receipts) {
    const d = r.details as { epoch: string; orders: string[]; destroyedAt: string; signature: string };
    if (!(await verifyShredReceipt(vault.deps.logKey.publicKey, d)))
      throw new Error(`shred receipt ${r.id} does not verify`);
  }
  return receipts;
}

/** A copy of a recording's objects, as a bucket backup would hold them. */
export async function copyObjects(vault: TestVault, recordingId: string): Promise<[string, Buffer][]> {
  const keys = await vault.deps.blobs.list(`recordings/${recordingId}/`);
  return Promise.all(keys.map(async (k) => [k, (await vault.deps.blobs.get(k)) as Buffer] as [string, Buffer]));
}

export async function putObjects(vault: TestVault, objects: [string, Buffer][]): Promise<void> {
  for (const [k, body] of objects) await vault.deps.blobs.put(k, body);
}

export type Backup = Awaited<ReturnType<typeof dumpSchema>>;

export const backupDatabase = (vault: TestVault): Promise<Backup> => dumpSchema(vault.stores.postgresSchema);

/**
 * A vault started on a database restored from `backup`, beside the live
 * vault's objects, epoch key store and KEK, its clock set to `at` (someone
 * restoring a backup may set any time they like). Close it when done.
 */
export async function restoredVault(
  pair: StorePair,
  live: TestVault,
  backup: Backup,
  at: Date,
  env: Record<string, string> = {},
): Promise<{ vault: TestVault; close(): Promise<void> }> {
  const restored = await restoreSchema(backup);
  try {
    const vault = await startTestVault(pair, env, {
      stores: {
        db: restored.db,
        blobs: live.stores.blobs,
        postgresSchema: restored.schema,
        env: live.stores.env,
        cleanup: restored.cleanup,
      },
    });
    vault.clock.set(at);
    return {
      vault,
      async close() {
        await vault.close();
        await restored.cleanup();
      },
    };
  } catch (err) {
    await restored.cleanup();
    throw err;
  }
}
