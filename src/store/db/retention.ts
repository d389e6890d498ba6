import type { Queryable } from './database.js';
import { ACTIVE_HOLD } from './holds.js';

/**
 * The retention queries. Work is claimed with FOR UPDATE SKIP LOCKED, so
 * several vault servers sweeping one database never take the same row.
 */
export interface Claimed {
  id: string;
  orderId: string;
}

/**
 * Sealed or incomplete recordings past retainUntil that no active hold keeps
 * (SPEC step 8: only holds extend retention; an access request, pending or
 * approved, does not). The same rule as a read's (src/domain/retention.ts),
 * so what a read calls expired is what the sweeper destroys. `orderId`
 * narrows it to one order (a hold being placed expires that order's first).
 */
export async function claimExpirable(
  tx: Queryable,
  now: Date,
  limit: number,
  orderId: string | null = null,
): Promise<Claimed[]> {
  return tx.query<Claimed>(
    `SELECT r.id, r.order_id AS "orderId" FROM recordings r
      WHERE r.status IN ('sealed', 'incomplete') AND r.retain_until <= $1
        AND ($3::text IS NULL OR r.order_id = $3)
        AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.order_id = r.order_id AND ${ACTIVE_HOLD('h', '$1')})
      ORDER BY r.retain_until, r.id
      LIMIT $2
      FOR UPDATE OF r SKIP LOCKED`,
    [now, limit, orderId],
  );
}

/** Whether the order has a recording that is still kept at `now` (uploading, within retention, or held), and whether it has any. */
export async function orderRetention(
  q: Queryable,
  orderId: string,
  now: Date,
): Promise<{ hasRecordings: boolean; hasLive: boolean }> {
  const [row] = await q.query<{ has_recordings: boolean; has_live: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM recordings WHERE order_id = $1) AS has_recordings,
            EXISTS (SELECT 1 FROM recordings r WHERE r.order_id = $1 AND (
              r.status = 'recording'
              OR (r.status IN ('sealed', 'incomplete') AND (r.retain_until > $2
                  OR EXISTS (SELECT 1 FROM holds h WHERE h.order_id = r.order_id AND ${ACTIVE_HOLD('h', '$2')}))))) AS has_live`,
    [orderId, now],
  );
  return { hasRecordings: row?.has_recordings ?? false, hasLive: row?.has_live ?? false };
}

export async function markExpired(tx: Queryable, id: string, at: Date): Promise<void> {
  await tx.query(`UPDATE recordings SET status = 'expired', expired_at = $2 WHERE id = $1`, [id, at]);
}

/** Recordings still `recording` whose last chunk (or start) is older than the cutoff. */
export async function claimSilent(
  tx: Queryable,
  cutoff: Date,
  limit: number,
): Promise<(Claimed & { lastActivity: Date })[]> {
  return tx.query<Claimed & { lastActivity: Date }>(
    `SELECT r.id, r.order_id AS "orderId", COALESCE(r.last_chunk_at, r.created_at) AS "lastActivity" FROM recordings r
      WHERE r.status = 'recording' AND COALESCE(r.last_chunk_at, r.created_at) <= $1
      ORDER BY r.created_at, r.id
      LIMIT $2
      FOR UPDATE OF r SKIP LOCKED`,
    [cutoff, limit],
  );
}

export async function markIncomplete(tx: Queryable, id: string, at: Date, retainUntil: Date): Promise<void> {
  await tx.query(`UPDATE recordings SET status = 'incomplete', incomplete_at = $2, retain_until = $3 WHERE id = $1`, [
    id,
    at,
    retainUntil,
  ]);
}

/**
 * Destroys the order's wrapped secret key when none of its recordings is live
 * any more (crypto-shredding). Locks the order row first, so a recording
 * starting at the same moment either sees the shred or prevents it.
 */
export async function shredOrderKeyIfDone(tx: Queryable, orderId: string, at: Date): Promise<boolean> {
  const [order] = await tx.query<{ shredded: boolean }>(
    'SELECT shredded_at IS NOT NULL AS shredded FROM orders WHERE order_id = $1 FOR UPDATE',
    [orderId],
  );
  if (!order || order.shredded) return false;
  const live = await tx.query(
    `SELECT 1 FROM recordings WHERE order_id = $1 AND status IN ('recording', 'sealed', 'incomplete') LIMIT 1`,
    [orderId],
  );
  if (live.length > 0) return false;
  // The epoch key it was wrapped under goes later, once no order is wrapped under it and the backup window has passed.
  await tx.query(
    'UPDATE orders SET wrapped_secret_key = NULL, epoch_id = NULL, kek_version = NULL, shredded_at = $2 WHERE order_id = $1',
    [orderId, at],
  );
  return true;
}
