import { appendAudit } from '../audit/audit-log.js';
import { addMs } from '../durations.js';
import * as epochs from '../store/db/epochs.js';
import type { DomainDeps } from './deps.js';
import { type EpochRef, holdKeyRef } from './epochs.js';
import { signShredReceipt } from './shred-receipts.js';

/**
 * @module
 * The sweeper's last step (SPEC step 8 and Crypto): destroying epoch keys.
 *
 * An epoch key goes once its epoch's end plus VAULT_BACKUP_WINDOW has passed
 * and no order is wrapped under it any more. Then every copy of the order
 * keys it wrapped, in the live database and in every database backup, is
 * useless, and a signed shred receipt says so in the audit log.
 *
 * Several servers may sweep at once: each epoch is taken FOR UPDATE SKIP
 * LOCKED and marked destroyed in the transaction that writes its receipt,
 * so it is destroyed and receipted once. The key is deleted from the store
 * before that transaction commits: a crash in between leaves an epoch that
 * is still live in the database and has no key, and the next sweep finishes
 * it (deleting what is gone is fine) with the one receipt.
 */
const SWEEPER_ACTOR = 'system:sweeper';
const PAGE = 100;

export interface ShredReport {
  epochKeysDestroyed: number;
  holdKeysDestroyed: number;
  /** keys found in the store that the database had no row for (a transaction that rolled back after storing one) */
  strayKeysAdopted: number;
}

/**
 * Destroys one epoch key if it is still live, due and empty, with its receipt;
 * null when it is not (another server took it or finished it, an order is
 * still under it). Safe to call with a stale idea of what is due.
 */
export async function destroyEpochKeyIfDue(deps: DomainDeps, id: string): Promise<'epoch' | 'hold' | null> {
  const now = deps.clock.now();
  const endedBefore = addMs(now, -deps.config.backupWindowMs);
  const kind = await deps.db.transaction(async (tx) => {
    const epoch = await epochs.lockDueEpoch(tx, id, endedBefore);
    if (!epoch) return null;
    if ((await epochs.ordersWrappedUnder(tx, id)) > 0) return null;
    const orders = await epochs.coveredOrders(tx, id);
    deps.epochKeys.forget(id);
    await deps.epochKeys.store.destroy(id);
    const receipt = signShredReceipt(deps.logKey, { epoch: id, orders, destroyedAt: now.toISOString() });
    await epochs.markDestroyed(tx, id, now);
    await appendAudit(tx, now, {
      actorId: SWEEPER_ACTOR,
      action: epoch.kind === 'hold' ? 'hold_key.destroyed' : 'epoch.destroyed',
      outcome: 'ok',
      details: {
        epoch: receipt.epoch,
        orders: receipt.orders,
        destroyedAt: receipt.destroyedAt,
        signature: receipt.signature,
        ...(epoch.holdId ? { holdId: epoch.holdId } : {}),
      },
    });
    return epoch.kind;
  });
  if (kind) deps.metrics.epochKeysDestroyed.inc({ kind });
  return kind;
}

/** Destroys every epoch key that is due and that no order is wrapped under, each with its receipt. */
export async function destroyDueEpochKeys(deps: DomainDeps): Promise<Omit<ShredReport, 'strayKeysAdopted'>> {
  const now = deps.clock.now();
  const endedBefore = addMs(now, -deps.config.backupWindowMs);
  const report = { epochKeysDestroyed: 0, holdKeysDestroyed: 0 };
  let after = '';
  for (;;) {
    const ids = await epochs.dueEpochs(deps.db, endedBefore, after, PAGE);
    for (const id of ids) {
      const kind = await destroyEpochKeyIfDue(deps, id);
      if (kind === 'hold') report.holdKeysDestroyed++;
      else if (kind === 'epoch') report.epochKeysDestroyed++;
    }
    if (ids.length < PAGE) return report;
    after = ids[ids.length - 1] ?? after;
  }
}

/**
 * Gives a row to each key in the store that the database does not know, so
 * that it too is destroyed on time. Such a key was stored by a transaction
 * that rolled back: no committed order was ever wrapped under it. A day
 * epoch's end is its start plus the configured epoch length; a hold key's is now.
 */
export async function adoptStrayEpochKeys(deps: DomainDeps): Promise<number> {
  const unknown = await epochs.unknownEpochIds(deps.db, await deps.epochKeys.store.list());
  let adopted = 0;
  for (const id of unknown) {
    const done = await deps.db.transaction(async (tx) => {
      await epochs.lockEpochCreation(tx, id);
      if (await epochs.findEpoch(tx, id)) return false; // its creator committed meanwhile
      const stored = await deps.epochKeys.store.get(id);
      if (!stored) return false;
      const now = deps.clock.now();
      let ref: EpochRef;
      if (id.startsWith('hold:')) {
        ref = { ...holdKeyRef(id.slice('hold:'.length), now), endsAt: now };
      } else {
        const startsAt = new Date(id);
        ref = { id, kind: 'epoch', holdId: null, startsAt, endsAt: addMs(startsAt, deps.config.epochLengthMs) };
      }
      await epochs.insertEpoch(tx, { ...ref, kekVersion: stored.kekVersion, createdAt: now });
      return true;
    });
    if (done) adopted++;
  }
  return adopted;
}

/**
 * vault_epoch_key_oldest_age_seconds: how long ago the oldest live epoch key's
 * epoch began. Healthy, it stays under the backup window plus about two epochs;
 * growing past that, keys are not being destroyed (an order stuck in an old
 * epoch, or the sweeper failing). Hold keys are left out: a legal hold may last years.
 */
export async function measureOldestEpochKey(deps: DomainDeps): Promise<void> {
  const oldest = await epochs.oldestLiveEpochStart(deps.db);
  const age = oldest ? Math.max(0, deps.clock.now().getTime() - oldest.getTime()) / 1000 : 0;
  deps.metrics.epochKeyOldestAgeSeconds.set(age);
}

export async function shredEpochKeys(deps: DomainDeps): Promise<ShredReport> {
  const strayKeysAdopted = await adoptStrayEpochKeys(deps);
  const destroyed = await destroyDueEpochKeys(deps);
  await measureOldestEpochKey(deps);
  return { ...destroyed, strayKeysAdopted };
}
