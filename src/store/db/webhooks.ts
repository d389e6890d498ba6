import type { Queryable } from './database.js';

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  events: string[];
  secretWrapped: Buffer;
  kekVersion: number;
  createdBy: string;
  createdAt: Date;
  deletedAt: Date | null;
}

type EndpointRow = {
  id: string;
  url: string;
  events: string[];
  secret_wrapped: Buffer;
  kek_version: number;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
};

const toEndpoint = (r: EndpointRow): WebhookEndpointRecord => ({
  id: r.id,
  url: r.url,
  events: r.events,
  secretWrapped: r.secret_wrapped,
  kekVersion: r.kek_version,
  createdBy: r.created_by,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

export async function insertEndpoint(q: Queryable, e: Omit<WebhookEndpointRecord, 'deletedAt'>): Promise<void> {
  await q.query(
    `INSERT INTO webhook_endpoints (id, url, events, secret_wrapped, kek_version, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.id, e.url, e.events, e.secretWrapped, e.kekVersion, e.createdBy, e.createdAt],
  );
}

export async function listEndpoints(q: Queryable): Promise<WebhookEndpointRecord[]> {
  const rows = await q.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY id');
  return rows.map(toEndpoint);
}

export async function findEndpoint(q: Queryable, id: string): Promise<WebhookEndpointRecord | null> {
  const [row] = await q.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
  return row ? toEndpoint(row) : null;
}

/** Marks it deleted and fails what it still had pending; false when already deleted. */
export async function deleteEndpoint(q: Queryable, id: string, at: Date): Promise<boolean> {
  const rows = await q.query(
    'UPDATE webhook_endpoints SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING id',
    [id, at],
  );
  await q.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE endpoint_id = $1 AND status = 'pending'`, [id]);
  return rows.length === 1;
}

/** The outbox: one delivery per active endpoint subscribed to the type, in the caller's transaction. */
export async function enqueue(
  q: Queryable,
  e: { eventId: string; type: string; payload: object; at: Date; giveUpAt: Date },
): Promise<number> {
  const rows = await q.query(
    `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, created_at, status, next_attempt_at, give_up_at)
     SELECT id, $1, $2, $3, $4, 'pending', $4, $5 FROM webhook_endpoints
      WHERE deleted_at IS NULL AND $2 = ANY(events)
     RETURNING id`,
    [e.eventId, e.type, JSON.stringify(e.payload), e.at, e.giveUpAt],
  );
  return rows.length;
}

/** Records that `type` was sent for `subject`; false when it already was (then nothing is to be sent). */
export async function claimOnce(q: Queryable, type: string, subject: string, at: Date): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO webhook_once (event_type, subject, created_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING subject`,
    [type, subject, at],
  );
  return rows.length === 1;
}

export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  payload: string;
  attempts: number;
  giveUpAt: Date;
  createdAt: Date;
}

/**
 * Claims due deliveries for `leaseMs`: SKIP LOCKED lets several servers claim
 * different rows at once; the lease makes a crashed server's claim run out.
 */
export async function claimDue(q: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const rows = await q.query<{
    id: string;
    endpoint_id: string;
    event_id: string;
    payload: string;
    attempts: number;
    give_up_at: Date;
    created_at: Date;
  }>(
    `UPDATE webhook_deliveries d SET locked_until = $2, attempts = d.attempts + 1
      WHERE d.id IN (
        SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
         ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING d.id::text AS id, d.endpoint_id, d.event_id, d.payload::text AS payload, d.attempts, d.give_up_at, d.created_at`,
    [now, leaseUntil, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    payload: r.payload,
    attempts: r.attempts,
    giveUpAt: r.give_up_at,
    createdAt: r.created_at,
  }));
}

export async function recordAttempt(
  q: Queryable,
  a: { deliveryId: string; at: Date; statusCode: number | null; error: string | null; durationMs: number },
): Promise<void> {
  await q.query(
    `INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
    [a.deliveryId, a.at, a.statusCode, a.error, a.durationMs],
  );
}

export async function settleDelivery(
  q: Queryable,
  id: string,
  to: { status: 'delivered' | 'failed' | 'pending'; at: Date; nextAttemptAt?: Date },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries
        SET status = $2, locked_until = NULL, delivered_at = CASE WHEN $2 = 'delivered' THEN $3::timestamptz END,
            next_attempt_at = COALESCE($4::timestamptz, next_attempt_at)
      WHERE id = $1`,
    [id, to.status, to.at, to.nextAttemptAt ?? null],
  );
}

export interface DeliveryWithAttempts {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: { at: Date; statusCode: number | null; error: string | null; durationMs: number }[];
  createdAt: Date;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
}

export async function listDeliveries(q: Queryable, endpointId: string, limit: number): Promise<DeliveryWithAttempts[]> {
  const rows = await q.query<{
    id: string;
    event_id: string;
    event_type: string;
    status: DeliveryWithAttempts['status'];
    created_at: Date;
    next_attempt_at: Date;
    delivered_at: Date | null;
    attempts: { at: string; statusCode: number | null; error: string | null; durationMs: number }[] | null;
  }>(
    `SELECT d.id::text AS id, d.event_id, d.event_type, d.status, d.created_at, d.next_attempt_at, d.delivered_at,
            (SELECT json_agg(json_build_object('at', a.attempted_at, 'statusCode', a.status_code, 'error', a.error,
                                               'durationMs', a.duration_ms) ORDER BY a.id)
               FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts
       FROM webhook_deliveries d WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2`,
    [endpointId, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    deliveredAt: r.delivered_at,
    attempts: (r.attempts ?? []).map((a) => ({ ...a, at: new Date(a.at) })),
  }));
}
