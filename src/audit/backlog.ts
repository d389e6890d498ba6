import type { Queryable } from '../store/db/database.js';

/**
 * What the sequencer has yet to integrate: committed entries without a leaf
 * index, and how long ago the oldest of them happened (0 when none). Read at
 * each /metrics scrape, so "sequencer behind" can page while the sequencer
 * still succeeds but falls behind (docs/alerts.yml).
 */
export async function auditBacklog(db: Queryable): Promise<{ entries: number; oldestAgeSeconds: number }> {
  const [row] = await db.query<{ entries: number; age: number }>(
    `SELECT count(*)::int AS entries,
            COALESCE(GREATEST(EXTRACT(EPOCH FROM now() - min(at)), 0), 0)::float8 AS age
       FROM audit_log WHERE leaf_index IS NULL`,
  );
  return { entries: row?.entries ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}
