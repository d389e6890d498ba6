import type { HoldReason } from '../../domain/vocabulary.js';
import type { Queryable } from './database.js';

export interface HoldRecord {
  id: string;
  orderId: string;
  reason: HoldReason;
  until: Date | null;
  note: string | null;
  placedBy: string;
  placedAt: Date;
  liftedBy: string | null;
  liftedAt: Date | null;
}

interface HoldRow {
  id: string;
  order_id: string;
  reason: HoldReason;
  until: Date | null;
  note: string | null;
  placed_by: string;
  placed_at: Date;
  lifted_by: string | null;
  lifted_at: Date | null;
}

const toHold = (r: HoldRow): HoldRecord => ({
  id: r.id,
  orderId: r.order_id,
  reason: r.reason,
  until: r.until,
  note: r.note,
  placedBy: r.placed_by,
  placedAt: r.placed_at,
  liftedBy: r.lifted_by,
  liftedAt: r.lifted_at,
});

/** SQL for "this hold keeps its order's recordings at $now": not lifted and not past its own end. */
export const ACTIVE_HOLD = (alias: string, now: string) =>
  `${alias}.lifted_at IS NULL AND (${alias}.until IS NULL OR ${alias}.until > ${now})`;

export async function insertHold(q: Queryable, h: Omit<HoldRecord, 'liftedBy' | 'liftedAt'>): Promise<void> {
  await q.query(
    'INSERT INTO holds (id, order_id, reason, until, note, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [h.id, h.orderId, h.reason, h.until, h.note, h.placedBy, h.placedAt],
  );
}

export async function findHold(q: Queryable, id: string, { forUpdate = false } = {}): Promise<HoldRecord | null> {
  const [row] = await q.query<HoldRow>(`SELECT * FROM holds WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return row ? toHold(row) : null;
}

export async function markLifted(q: Queryable, id: string, by: string, at: Date): Promise<void> {
  await q.query('UPDATE holds SET lifted_by = $2, lifted_at = $3 WHERE id = $1', [id, by, at]);
}

export async function activeHoldsOfOrder(q: Queryable, orderId: string, now: Date): Promise<HoldRecord[]> {
  const rows = await q.query<HoldRow>(
    `SELECT * FROM holds h WHERE h.order_id = $1 AND ${ACTIVE_HOLD('h', '$2')} ORDER BY h.placed_at, h.id`,
    [orderId, now],
  );
  return rows.map(toHold);
}
