import type { Queryable } from './database.js';

export interface Subject {
  orderId?: string;
  recordingId?: string;
  requestId?: string;
  holdId?: string;
}

/** The order a request was about, from whichever id its path named (for auditing refusals). */
export async function orderIdOf(q: Queryable, s: Subject): Promise<string | null> {
  if (s.orderId) return s.orderId;
  const lookups: [string | undefined, string][] = [
    [s.recordingId, 'SELECT order_id FROM recordings WHERE id = $1'],
    [s.requestId, 'SELECT order_id FROM access_requests WHERE id = $1'],
    [s.holdId, 'SELECT order_id FROM holds WHERE id = $1'],
  ];
  for (const [id, sql] of lookups) {
    if (!id) continue;
    const [row] = await q.query<{ order_id: string }>(sql, [id]);
    if (row) return row.order_id;
  }
  return null;
}
