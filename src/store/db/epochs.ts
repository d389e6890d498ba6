import type { EpochRef, RetentionFacts } from '../../domain/epochs.js';
import type { Queryable } from './database.js';
import { ACTIVE_HOLD } from './holds.js';

/**
 * @module
 * What the database knows about epoch keys (never the keys: those live in the
 * epoch key store) and which order is wrapped under which.
 *
 * Locks, so that a key is never destroyed while an order is wrapped under it:
 * wrapping an order under an epoch holds its row FOR KEY SHARE until commit;
 * destroying holds it FOR UPDATE (the two exclude each other); KEK rotation
 * holds it FOR NO KEY UPDATE (excludes destroying, not wrapping). Making a
 * key that has no row yet is serialised by an advisory lock on its id.
 */
export interface EpochRow extends EpochRef {
  kekVersion: number;
  createdAt: Date;
  destroyedAt: Date | null;
}

interface Row {
  id: string;
  kind: 'epoch' | 'hold';
  hold_id: string | null;
  starts_at: Date;
  ends_at: Date | null;
  kek_version: number;
  created_at: Date;
  destroyed_at: Date | null;
}

const toEpoch = (r: Row): EpochRow => ({
  id: r.id,
  kind: r.kind,
  holdId: r.hold_id,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  kekVersion: r.kek_version,
  createdAt: r.created_at,
  destroyedAt: r.destroyed_at,
});

// Namespace of the advisory locks taken while an epoch's key is made (the second key is hashtext(id)).
const EPOCH_CREATION_LOCK = 7_042_019;

export type EpochLock = 'key share' | 'no key update' | 'update';

export async function findEpoch(q: Queryable, id: string, lock?: EpochLock): Promise<EpochRow | null> {
  const [row] = await q.query<Row>(`SELECT * FROM epochs WHERE id = $1${lock ? ` FOR ${lock.toUpperCase()}` : ''}`, [
    id,
  ]);
  return row ? toEpoch(row) : null;
}

// Batches that move many orders (the start-up migration, the sweeper) take turns across servers: two
// batches making new keys in opposite orders could otherwise deadlock on the creation locks.
const EPOCH_BATCH_LOCK = 7_042_020;

export async function lockEpochBatches(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [EPOCH_BATCH_LOCK]);
}

/** Serialises, across servers, making the key of one epoch (held until the transaction ends). */
export async function lockEpochCreation(tx: Queryable, id: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [EPOCH_CREATION_LOCK, id]);
}

export async function insertEpoch(tx: Queryable, e: EpochRef & { kekVersion: number; createdAt: Date }): Promise<void> {
  await tx.query(
    `INSERT INTO epochs (id, kind, hold_id, starts_at, ends_at, kek_version, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
    [e.id, e.kind, e.holdId, e.startsAt, e.endsAt, e.kekVersion, e.createdAt],
  );
}

/** An order's wrap and the facts that decide where it belongs, with the order row locked. */
export interface OrderKeyState {
  orderId: string;
  wrappedSecretKey: Uint8Array | null;
  epochId: string | null;
  kekVersion: number | null;
  facts: RetentionFacts;
}

interface StateRow {
  order_id: string;
  wrapped_secret_key: Uint8Array | null;
  epoch_id: string | null;
  kek_version: number | null;
  scheduled_at: Date;
  retained_until: Date | null;
  uploading: boolean;
  has_recordings: boolean;
  held_until: Date | null;
  open_hold_id: string | null;
}

export async function lockOrderKeyState(tx: Queryable, orderId: string, now: Date): Promise<OrderKeyState | null> {
  const [r] = await tx.query<StateRow>(
    `SELECT o.order_id, o.wrapped_secret_key, o.epoch_id, o.kek_version, o.scheduled_at,
            (SELECT max(retain_until) FROM recordings WHERE order_id = o.order_id AND status IN ('sealed', 'incomplete')) AS retained_until,
            EXISTS (SELECT 1 FROM recordings WHERE order_id = o.order_id AND status = 'recording') AS uploading,
            EXISTS (SELECT 1 FROM recordings WHERE order_id = o.order_id) AS has_recordings,
            (SELECT max(h.until) FROM holds h WHERE h.order_id = o.order_id AND ${ACTIVE_HOLD('h', '$2')}) AS held_until,
            (SELECT h.id FROM holds h WHERE h.order_id = o.order_id AND h.until IS NULL AND h.lifted_at IS NULL
              ORDER BY h.placed_at, h.id LIMIT 1) AS open_hold_id
       FROM orders o WHERE o.order_id = $1
       FOR NO KEY UPDATE OF o`,
    [orderId, now],
  );
  if (!r) return null;
  return {
    orderId: r.order_id,
    wrappedSecretKey: r.wrapped_secret_key ? new Uint8Array(r.wrapped_secret_key) : null,
    epochId: r.epoch_id,
    kekVersion: r.kek_version,
    facts: {
      scheduledAt: r.scheduled_at,
      retainedUntil: r.retained_until,
      uploading: r.uploading,
      hasRecordings: r.has_recordings,
      heldUntil: r.held_until,
      openHoldId: r.open_hold_id,
    },
  };
}

/** Puts the order's key under `epochId` and remembers that this epoch covered it (for its shred receipt). */
export async function setOrderWrap(
  tx: Queryable,
  orderId: string,
  epochId: string,
  wrapped: Uint8Array,
): Promise<void> {
  await tx.query('UPDATE orders SET wrapped_secret_key = $2, epoch_id = $3, kek_version = NULL WHERE order_id = $1', [
    orderId,
    Buffer.from(wrapped),
    epochId,
  ]);
  await tx.query('INSERT INTO epoch_orders (epoch_id, order_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    epochId,
    orderId,
  ]);
}

/**
 * Hold keys of this order that it no longer needs (it is now under `keepId`)
 * get their end: from now on the backup window runs for them.
 */
export async function endUnneededHoldKeys(tx: Queryable, orderId: string, keepId: string, at: Date): Promise<void> {
  await tx.query(
    `UPDATE epochs SET ends_at = $3
      WHERE kind = 'hold' AND ends_at IS NULL AND destroyed_at IS NULL AND id <> $2
        AND hold_id IN (SELECT id FROM holds WHERE order_id = $1)`,
    [orderId, keepId, at],
  );
}

/** Orders whose key is still wrapped by a KEK directly (from before epochs), locked. */
export async function claimKekWrappedOrders(tx: Queryable, limit: number): Promise<string[]> {
  const rows = await tx.query<{ order_id: string }>(
    `SELECT order_id FROM orders WHERE wrapped_secret_key IS NOT NULL AND epoch_id IS NULL
      ORDER BY order_id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => r.order_id);
}

/** Orders with a live key under an epoch that has ended (or a hold key its hold no longer needs), after `afterOrderId`. */
export async function claimOrdersInEndedEpochs(
  tx: Queryable,
  now: Date,
  afterOrderId: string,
  limit: number,
): Promise<string[]> {
  const rows = await tx.query<{ order_id: string }>(
    `SELECT o.order_id FROM orders o JOIN epochs e ON e.id = o.epoch_id
      WHERE o.wrapped_secret_key IS NOT NULL AND e.ends_at <= $1 AND o.order_id > $2
      ORDER BY o.order_id LIMIT $3 FOR NO KEY UPDATE OF o SKIP LOCKED`,
    [now, afterOrderId, limit],
  );
  return rows.map((r) => r.order_id);
}

/** Live epochs whose end plus the backup window has passed, oldest first. */
export async function dueEpochs(q: Queryable, endedBefore: Date, afterId: string, limit: number): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT id FROM epochs WHERE destroyed_at IS NULL AND ends_at <= $1 AND id > $2 ORDER BY id LIMIT $3`,
    [endedBefore, afterId, limit],
  );
  return rows.map((r) => r.id);
}

/** The epoch, locked for destruction, if it is still live and due; null when another server has it or it is done. */
export async function lockDueEpoch(tx: Queryable, id: string, endedBefore: Date): Promise<EpochRow | null> {
  const [row] = await tx.query<Row>(
    `SELECT * FROM epochs WHERE id = $1 AND destroyed_at IS NULL AND ends_at <= $2 FOR UPDATE SKIP LOCKED`,
    [id, endedBefore],
  );
  return row ? toEpoch(row) : null;
}

export async function ordersWrappedUnder(q: Queryable, id: string): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE epoch_id = $1', [id]);
  return row?.n ?? 0;
}

export async function coveredOrders(q: Queryable, id: string): Promise<string[]> {
  const rows = await q.query<{ order_id: string }>(
    'SELECT order_id FROM epoch_orders WHERE epoch_id = $1 ORDER BY order_id',
    [id],
  );
  return rows.map((r) => r.order_id);
}

export async function markDestroyed(tx: Queryable, id: string, at: Date): Promise<void> {
  await tx.query('UPDATE epochs SET destroyed_at = $2 WHERE id = $1', [id, at]);
  await tx.query('DELETE FROM epoch_orders WHERE epoch_id = $1', [id]);
}

/** Live epochs not yet under `version`, for KEK rotation. */
export async function epochsNotUnder(q: Queryable, version: number, afterId: string, limit: number): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT id FROM epochs WHERE destroyed_at IS NULL AND kek_version <> $1 AND id > $2 ORDER BY id LIMIT $3`,
    [version, afterId, limit],
  );
  return rows.map((r) => r.id);
}

export async function setEpochKekVersion(tx: Queryable, id: string, version: number): Promise<void> {
  await tx.query('UPDATE epochs SET kek_version = $2 WHERE id = $1', [id, version]);
}

/** Which KEK versions live epoch keys use, with how many each. */
export async function epochKekVersions(q: Queryable): Promise<{ version: number; epochs: number }[]> {
  return q.query<{ version: number; epochs: number }>(
    `SELECT kek_version AS version, count(*)::int AS epochs FROM epochs WHERE destroyed_at IS NULL
      GROUP BY kek_version ORDER BY kek_version`,
  );
}

export interface LiveEpoch extends EpochRow {
  /** orders wrapped under it now */
  orders: number;
  /** orders ever wrapped under it: its shred receipt will name them */
  covered: number;
}

export async function liveEpochs(q: Queryable): Promise<LiveEpoch[]> {
  const rows = await q.query<Row & { orders: number; covered: number }>(
    `SELECT e.*,
            (SELECT count(*)::int FROM orders o WHERE o.epoch_id = e.id) AS orders,
            (SELECT count(*)::int FROM epoch_orders c WHERE c.epoch_id = e.id) AS covered
       FROM epochs e WHERE e.destroyed_at IS NULL ORDER BY e.kind, e.starts_at, e.id`,
  );
  return rows.map((r) => ({ ...toEpoch(r), orders: r.orders, covered: r.covered }));
}

/** The start of the oldest day epoch whose key is not destroyed yet (hold keys live as long as their holds). */
export async function oldestLiveEpochStart(q: Queryable): Promise<Date | null> {
  const [row] = await q.query<{ at: Date | null }>(
    `SELECT min(starts_at) AS at FROM epochs WHERE destroyed_at IS NULL AND kind = 'epoch'`,
  );
  return row?.at ?? null;
}

/** Of these ids, the ones the database has no row for (keys in the store it does not know). */
export async function unknownEpochIds(q: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<{ id: string }>(
    'SELECT x.id FROM unnest($1::text[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM epochs e WHERE e.id = x.id) ORDER BY x.id',
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Live epochs that orders are wrapped under, with how many each (the start-up check against the store). */
export async function epochsInUse(q: Queryable): Promise<{ id: string; orders: number }[]> {
  return q.query<{ id: string; orders: number }>(
    `SELECT epoch_id AS id, count(*)::int AS orders FROM orders WHERE epoch_id IS NOT NULL GROUP BY epoch_id ORDER BY epoch_id`,
  );
}
