import type { ConsentDecision, ConsentMode, ConsentParty } from '../../domain/vocabulary.js';
import type { Queryable } from './database.js';

export interface OrderRecord {
  orderId: string;
  beauticianId: string;
  customerId: string;
  scheduledAt: Date;
  publicKey: Uint8Array;
  /** null once shredded; wrapped under the epoch key `epochId` (or, from before epochs, by KEK `kekVersion`) */
  wrappedSecretKey: Uint8Array | null;
  epochId: string | null;
  kekVersion: number | null;
  createdAt: Date;
  shreddedAt: Date | null;
}

interface OrderRow {
  order_id: string;
  beautician_id: string;
  customer_id: string;
  scheduled_at: Date;
  public_key: Uint8Array;
  wrapped_secret_key: Uint8Array | null;
  epoch_id: string | null;
  kek_version: number | null;
  created_at: Date;
  shredded_at: Date | null;
}

const toOrder = (r: OrderRow): OrderRecord => ({
  orderId: r.order_id,
  beauticianId: r.beautician_id,
  customerId: r.customer_id,
  scheduledAt: r.scheduled_at,
  publicKey: new Uint8Array(r.public_key),
  wrappedSecretKey: r.wrapped_secret_key ? new Uint8Array(r.wrapped_secret_key) : null,
  epochId: r.epoch_id,
  kekVersion: r.kek_version,
  createdAt: r.created_at,
  shreddedAt: r.shredded_at,
});

/** A new order, its secret key not yet stored (src/domain/order-key-epochs.ts storeNewOrderKey does that next). */
export async function insertOrder(
  q: Queryable,
  o: Omit<OrderRecord, 'shreddedAt' | 'wrappedSecretKey' | 'epochId' | 'kekVersion'>,
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO orders (order_id, beautician_id, customer_id, scheduled_at, public_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
    [o.orderId, o.beauticianId, o.customerId, o.scheduledAt, Buffer.from(o.publicKey), o.createdAt],
  );
  return rows.length === 1;
}

export async function findOrder(q: Queryable, orderId: string): Promise<OrderRecord | null> {
  const [row] = await q.query<OrderRow>('SELECT * FROM orders WHERE order_id = $1', [orderId]);
  return row ? toOrder(row) : null;
}

export interface ConsentRecord {
  id: string;
  orderId: string;
  party: ConsentParty;
  decision: ConsentDecision;
  mode: ConsentMode;
  appVersion: string;
  recordedBy: string;
  recordedAt: Date;
}

interface ConsentRow {
  id: string;
  order_id: string;
  party: ConsentRecord['party'];
  decision: ConsentRecord['decision'];
  mode: ConsentRecord['mode'];
  app_version: string;
  recorded_by: string;
  recorded_at: Date;
}

export async function insertConsent(q: Queryable, c: ConsentRecord): Promise<void> {
  await q.query(
    `INSERT INTO consents (id, order_id, party, decision, mode, app_version, recorded_by, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.id, c.orderId, c.party, c.decision, c.mode, c.appVersion, c.recordedBy, c.recordedAt],
  );
}

export async function listConsents(q: Queryable, orderId: string): Promise<ConsentRecord[]> {
  const rows = await q.query<ConsentRow>('SELECT * FROM consents WHERE order_id = $1 ORDER BY recorded_at, id', [
    orderId,
  ]);
  return rows.map((r) => ({
    id: r.id,
    orderId: r.order_id,
    party: r.party,
    decision: r.decision,
    mode: r.mode,
    appVersion: r.app_version,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
  }));
}

/** Serialises writers on one order (consents vs recording start). */
export async function lockOrder(q: Queryable, orderId: string): Promise<OrderRecord | null> {
  const [row] = await q.query<OrderRow>('SELECT * FROM orders WHERE order_id = $1 FOR UPDATE', [orderId]);
  return row ? toOrder(row) : null;
}
