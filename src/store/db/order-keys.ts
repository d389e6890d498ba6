import type { WrappedOrderKey } from '../../crypto/order-keys.js';
import type { Queryable } from './database.js';

/** Wrapped order keys not yet under `version`, locked for this transaction. */
export async function claimStaleWraps(tx: Queryable, version: number, limit: number): Promise<WrappedOrderKey[]> {
  const rows = await tx.query<{ order_id: string; kek_version: number; wrapped_secret_key: Uint8Array }>(
    `SELECT order_id, kek_version, wrapped_secret_key FROM orders
      WHERE wrapped_secret_key IS NOT NULL AND kek_version <> $1
      ORDER BY order_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [version, limit],
  );
  return rows.map((r) => ({
    orderId: r.order_id,
    kekVersion: r.kek_version,
    wrappedSecretKey: new Uint8Array(r.wrapped_secret_key),
  }));
}

export async function updateWrap(tx: Queryable, orderId: string, wrapped: Uint8Array, version: number): Promise<void> {
  await tx.query('UPDATE orders SET wrapped_secret_key = $2, kek_version = $3 WHERE order_id = $1', [
    orderId,
    Buffer.from(wrapped),
    version,
  ]);
}

/** Which KEK versions stored (unshredded) order keys use, with how many each. */
export async function storedKekVersions(q: Queryable): Promise<{ version: number; orders: number }[]> {
  const rows = await q.query<{ version: number; orders: number }>(
    `SELECT kek_version AS version, count(*)::int AS orders FROM orders WHERE wrapped_secret_key IS NOT NULL GROUP BY kek_version ORDER BY kek_version`,
  );
  return rows;
}
