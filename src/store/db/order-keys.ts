import type { Queryable } from './database.js';

/**
 * Order keys from before epoch keys, still wrapped by a KEK directly: which
 * KEK versions they use, with how many each. The start-up migration moves
 * them under epoch keys (src/domain/order-key-epochs.ts), after which this is empty.
 */
export async function storedKekVersions(q: Queryable): Promise<{ version: number; orders: number }[]> {
  return q.query<{ version: number; orders: number }>(
    `SELECT kek_version AS version, count(*)::int AS orders FROM orders
      WHERE wrapped_secret_key IS NOT NULL AND epoch_id IS NULL GROUP BY kek_version ORDER BY kek_version`,
  );
}
