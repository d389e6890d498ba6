import { appendAudit } from '../audit/audit-log.js';
import { unwrapOrderKeyUnderEpoch, wrapOrderKeyUnderEpoch } from '../crypto/epoch-keys.js';
import { unwrapOrderSecretKey } from '../crypto/order-keys.js';
import { sodiumReady } from '../crypto/sodium.js';
import { gone, isVaultError, type VaultError } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import * as epochs from '../store/db/epochs.js';
import { findOrder } from '../store/db/orders.js';
import type { DomainDeps } from './deps.js';
import { EpochKeyGoneError, epochKeyForWrapping } from './epoch-keyring.js';
import { type EpochRef, targetEpoch } from './epochs.js';

/**
 * @module
 * Keeping each order's secret key under the epoch its retention ends in
 * (SPEC Crypto, epoch keys; the rules are in src/domain/epochs.ts).
 *
 * Whoever changes what an order's retention ends at calls followRetention
 * inside the same transaction, after the change: a recording sealed or marked
 * incomplete, a hold placed or lifted, a hold's end moved. The sweeper moves
 * orders out of epochs that have ended (a late visit, an upload still going),
 * so an epoch is left empty and can be destroyed after the backup window.
 *
 * Safety never depends on the horizon being right: an epoch key is destroyed
 * only while no order is wrapped under it, and a move commits the new wrap
 * (under a key already stored durably) before the old key can go. A crash
 * anywhere leaves the order under a key that still exists.
 *
 * Lock order, so that concurrent transactions cannot deadlock: the order row,
 * then the epoch rows (and the advisory lock that makes a new key). Audit
 * entries take no lock (the sequencer integrates them after commit).
 */
export type KeyMoveCause =
  | 'recording.sealed'
  | 'recording.incomplete'
  | 'hold.placed'
  | 'hold.lifted'
  | 'hold.changed'
  | 'epoch.ended'
  | 'migration';

export interface KeyMove {
  orderId: string;
  /** the epoch it was under; null for a key wrapped by a KEK directly (from before epochs) */
  from: string | null;
  to: string;
  cause: KeyMoveCause;
}

const KEY_ACTOR = 'system:epoch-keys';

/** 410: the order's epoch key is gone, so no copy of its key (live or in a backup) opens any more. */
export function orderShredded(epoch: string): VaultError {
  return gone(
    'order_shredded',
    `this order was crypto-shredded: the key of epoch ${epoch}, under which its secret key is wrapped, has been destroyed, so neither this database nor any backup of it can decrypt its recordings again`,
  );
}

export const isOrderShredded = (err: unknown): err is VaultError => isVaultError(err) && err.code === 'order_shredded';

interface Wrap {
  orderId: string;
  wrappedSecretKey: Uint8Array;
  epochId: string | null;
  kekVersion: number | null;
}

/** The secret key of a stored wrap (the caller wipes it). Throws EpochKeyGoneError when its epoch key is gone. */
async function unwrap(deps: Pick<DomainDeps, 'epochKeys' | 'keyring'>, w: Wrap): Promise<Uint8Array> {
  if (w.epochId === null) {
    if (w.kekVersion === null) throw new Error(`order ${w.orderId} has a wrapped key under neither an epoch nor a KEK`);
    return unwrapOrderSecretKey(deps.keyring, {
      orderId: w.orderId,
      kekVersion: w.kekVersion,
      wrappedSecretKey: w.wrappedSecretKey,
    });
  }
  const epochKey = await deps.epochKeys.open(w.epochId);
  if (!epochKey) throw new EpochKeyGoneError(w.epochId);
  try {
    return unwrapOrderKeyUnderEpoch({ id: w.epochId, key: epochKey }, w.orderId, w.wrappedSecretKey);
  } finally {
    sodiumReady().memzero(epochKey);
  }
}

async function wrapUnder(
  deps: DomainDeps,
  tx: Queryable,
  orderId: string,
  secretKey: Uint8Array,
  target: EpochRef,
  now: Date,
): Promise<void> {
  const epochKey = await epochKeyForWrapping(deps, tx, target, now);
  try {
    await epochs.setOrderWrap(
      tx,
      orderId,
      target.id,
      wrapOrderKeyUnderEpoch({ id: target.id, key: epochKey }, orderId, secretKey),
    );
  } finally {
    sodiumReady().memzero(epochKey);
  }
}

/**
 * Wraps a new order's secret key under the epoch its retention is expected to
 * end in. Call in the registering transaction, after the order row (with no
 * wrap yet) is inserted. Returns the epoch id.
 */
export async function storeNewOrderKey(
  deps: DomainDeps,
  tx: Queryable,
  orderId: string,
  secretKey: Uint8Array,
): Promise<string> {
  const now = deps.clock.now();
  const state = await epochs.lockOrderKeyState(tx, orderId, now);
  if (!state) throw new Error(`order ${orderId} must be inserted before its key is stored`);
  const target = targetEpoch(state.facts, now, deps.config);
  await wrapUnder(deps, tx, orderId, secretKey, target, now);
  return target.id;
}

/**
 * Re-wraps the order's key if the epoch it belongs under has moved; no audit
 * entry (see auditKeyMoves). Null when nothing moved or the order has no key
 * any more. Throws orderShredded when its current epoch key is gone.
 */
export async function moveOrderKeyIfNeeded(
  deps: DomainDeps,
  tx: Queryable,
  orderId: string,
  cause: KeyMoveCause,
): Promise<KeyMove | null> {
  const now = deps.clock.now();
  const state = await epochs.lockOrderKeyState(tx, orderId, now);
  if (!state?.wrappedSecretKey) return null;
  const target = targetEpoch(state.facts, now, deps.config);
  if (state.epochId === target.id) return null;
  let secretKey: Uint8Array;
  try {
    secretKey = await unwrap(deps, { ...state, wrappedSecretKey: state.wrappedSecretKey });
  } catch (err) {
    if (err instanceof EpochKeyGoneError) throw orderShredded(err.epoch);
    throw err;
  }
  try {
    await wrapUnder(deps, tx, orderId, secretKey, target, now);
  } finally {
    sodiumReady().memzero(secretKey);
  }
  await epochs.endUnneededHoldKeys(tx, orderId, target.id, now);
  return { orderId, from: state.epochId, to: target.id, cause };
}

/** One audit entry per move. */
export async function auditKeyMoves(tx: Queryable, at: Date, moves: KeyMove[]): Promise<void> {
  for (const m of moves) {
    await appendAudit(tx, at, {
      actorId: KEY_ACTOR,
      action: 'order.key_moved',
      outcome: 'ok',
      orderId: m.orderId,
      details: { from: m.from, to: m.to, cause: m.cause },
    });
  }
}

/**
 * The hook: call inside any transaction that changed what an order's
 * retention ends at, after the change and before the caller's own audit entry.
 */
export async function followRetention(
  deps: DomainDeps,
  tx: Queryable,
  orderId: string,
  cause: KeyMoveCause,
): Promise<void> {
  const move = await moveOrderKeyIfNeeded(deps, tx, orderId, cause);
  if (move) await auditKeyMoves(tx, deps.clock.now(), [move]);
}

/**
 * The order's secret key, for playback (the caller wipes it). Throws
 * orderShredded when the epoch key it is wrapped under was destroyed.
 */
export async function openOrderSecretKey(deps: DomainDeps, orderId: string): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    const order = await findOrder(deps.db, orderId);
    if (!order?.wrappedSecretKey)
      throw gone('recording_expired', 'this recording was destroyed at the end of its retention');
    try {
      return await unwrap(deps, { ...order, wrappedSecretKey: order.wrappedSecretKey });
    } catch (err) {
      if (!(err instanceof EpochKeyGoneError)) throw err;
      // The order may have moved to another epoch since it was read, and its old epoch gone: read it once more.
      if (attempt === 0) continue;
      throw orderShredded(err.epoch);
    }
  }
}

/**
 * moveOrderKeyIfNeeded for several orders in one transaction (a batch), with
 * batches across servers taking turns. An order whose epoch key is already
 * gone stays where it is (it is counted in `stranded`). The caller audits the
 * moves (auditKeyMoves) after this.
 */
export async function moveOrderKeysIfNeeded(
  deps: DomainDeps,
  tx: Queryable,
  orderIds: string[],
  cause: KeyMoveCause,
): Promise<{ moves: KeyMove[]; stranded: number }> {
  const result = { moves: [] as KeyMove[], stranded: 0 };
  if (orderIds.length === 0) return result;
  await epochs.lockEpochBatches(tx);
  for (const orderId of new Set(orderIds)) {
    try {
      const move = await moveOrderKeyIfNeeded(deps, tx, orderId, cause);
      if (move) result.moves.push(move);
    } catch (err) {
      if (!isOrderShredded(err)) throw err;
      result.stranded++;
    }
  }
  return result;
}

/**
 * Start-up migration: moves order keys wrapped by a KEK directly (from before
 * epochs) under their epochs, a batch per transaction. Resumable: a crash
 * loses at most the batch in hand, which the next start moves again.
 */
export async function moveKekWrappedOrderKeys(
  deps: DomainDeps,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 200;
  let moved = 0;
  for (let batch = 0; batch < (options.maxBatches ?? Number.POSITIVE_INFINITY); batch++) {
    const n = await deps.db.transaction(async (tx) => {
      await epochs.lockEpochBatches(tx);
      const ids = await epochs.claimKekWrappedOrders(tx, batchSize);
      const { moves } = await moveOrderKeysIfNeeded(deps, tx, ids, 'migration');
      await auditKeyMoves(tx, deps.clock.now(), moves);
      return ids.length;
    });
    moved += n;
    if (n < batchSize) break;
  }
  return moved;
}

/**
 * Sweeper step: orders still under an epoch that has ended (or a hold key its
 * hold no longer needs) move to where they belong now, so the old epoch is
 * left empty. Orders whose key is already gone stay as they are (stranded).
 */
export async function moveOrdersOutOfEndedEpochs(
  deps: DomainDeps,
  options: { batchSize?: number } = {},
): Promise<{ moved: number; stranded: number }> {
  const batchSize = options.batchSize ?? 50;
  let after = '';
  const total = { moved: 0, stranded: 0 };
  for (;;) {
    const { claimed, moved, stranded } = await deps.db.transaction(async (tx) => {
      await epochs.lockEpochBatches(tx);
      const ids = await epochs.claimOrdersInEndedEpochs(tx, deps.clock.now(), after, batchSize);
      const { moves, stranded } = await moveOrderKeysIfNeeded(deps, tx, ids, 'epoch.ended');
      await auditKeyMoves(tx, deps.clock.now(), moves);
      return { claimed: ids, moved: moves.length, stranded };
    });
    total.moved += moved;
    total.stranded += stranded;
    if (claimed.length < batchSize) return total;
    after = claimed[claimed.length - 1] ?? after;
  }
}

/** Epochs that orders are wrapped under but whose key is not in the store (start-up check), with their order counts. */
export async function checkEpochKeysPresent(deps: DomainDeps): Promise<{ id: string; orders: number }[]> {
  const stored = new Set(await deps.epochKeys.store.list());
  return (await epochs.epochsInUse(deps.db)).filter((e) => !stored.has(e.id));
}
