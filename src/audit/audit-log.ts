import { createHash } from 'node:crypto';
import type { AuditAction, AuditOutcome } from '../domain/vocabulary.js';
import { canonicalJson, type JsonValue } from '../json.js';

export type { AuditAction, AuditOutcome };

import type { Database, Queryable } from '../store/db/database.js';

/**
 * Append-only, hash-chained audit log. Each entry's hash covers its own
 * canonical content and the previous entry's hash, so editing, deleting or
 * reordering any row breaks verification from that row on. Entries are
 * written in the same transaction as the action they record.
 * Never put a secret (token, key, plaintext) into `details`.
 */

export interface AuditEntryInput {
  actorId: string | null;
  action: AuditAction;
  outcome: AuditOutcome;
  orderId?: string | null;
  recordingId?: string | null;
  details?: { [key: string]: JsonValue };
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  outcome: AuditOutcome;
  orderId: string | null;
  recordingId: string | null;
  details: { [key: string]: JsonValue };
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
// Serialises appends so the chain stays linear across connections and servers.
const AUDIT_CHAIN_LOCK = 7_042_002;

interface AuditRow {
  id: number;
  at: Date;
  actor_id: string | null;
  action: string;
  outcome: AuditOutcome;
  order_id: string | null;
  recording_id: string | null;
  details: { [key: string]: JsonValue };
  prev_hash: string;
  hash: string;
}

function entryHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const content = canonicalJson({
    id: e.id,
    at: e.at,
    actorId: e.actorId,
    action: e.action,
    outcome: e.outcome,
    orderId: e.orderId,
    recordingId: e.recordingId,
    details: e.details,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export async function appendAudit(tx: Queryable, at: Date, input: AuditEntryInput): Promise<AuditEntry> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
  // A statement of its own after the lock, so its snapshot sees every entry committed before the lock was granted.
  const [next] = await tx.query<{ id: number; last_hash: string | null }>(
    `SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) AS id, (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS last_hash`,
  );
  if (!next) throw new Error('audit sequence returned no value');
  const prevHash = next.last_hash ?? GENESIS_HASH;
  const body = {
    id: String(next.id),
    at: at.toISOString(),
    actorId: input.actorId,
    action: input.action,
    outcome: input.outcome,
    orderId: input.orderId ?? null,
    recordingId: input.recordingId ?? null,
    details: input.details ?? {},
  };
  const hash = entryHash(prevHash, body);
  await tx.query(
    `INSERT INTO audit_log (id, at, actor_id, action, outcome, order_id, recording_id, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      next.id,
      at,
      body.actorId,
      body.action,
      body.outcome,
      body.orderId,
      body.recordingId,
      JSON.stringify(body.details),
      prevHash,
      hash,
    ],
  );
  return { ...body, prevHash, hash };
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: String(r.id),
    at: r.at.toISOString(),
    actorId: r.actor_id,
    action: r.action,
    outcome: r.outcome,
    orderId: r.order_id,
    recordingId: r.recording_id,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export async function listAudit(
  db: Queryable,
  options: { orderId?: string; afterId?: number; limit: number },
): Promise<{ entries: AuditEntry[]; nextAfter: string | null }> {
  const rows = await db.query<AuditRow>(
    `SELECT * FROM audit_log
      WHERE ($1::text IS NULL OR order_id = $1) AND id > $2
      ORDER BY id LIMIT $3`,
    [options.orderId ?? null, options.afterId ?? 0, options.limit + 1],
  );
  const more = rows.length > options.limit;
  const entries = rows.slice(0, options.limit).map(toEntry);
  return { entries, nextAfter: more ? (entries.at(-1)?.id ?? null) : null };
}

// A type, not an interface, so that a result can go into an entry's details as JSON.
export type ChainHead = { id: string; hash: string };

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBrokenId?: string;
  /** the newest entry verified: keep it outside the vault and pass it back as the anchor of a later check */
  head?: ChainHead;
  /** with an anchor: found with its hash, changed, or gone (the chain was cut back past it) */
  anchor?: 'matched' | 'changed' | 'missing';
}

/**
 * Walks the whole chain in id order, a page at a time. A chain alone cannot
 * show that its newest entries were deleted; an anchor — a head an auditor
 * kept from an earlier check — can: it must still be there, with its hash.
 */
export async function verifyAudit(
  db: Database,
  options: { anchor?: ChainHead; pageSize?: number } = {},
): Promise<VerifyResult> {
  const { anchor, pageSize = 1000 } = options;
  let prevHash = GENESIS_HASH;
  let afterId = 0;
  let checked = 0;
  let head: ChainHead | undefined;
  let anchorSeen = false;
  for (;;) {
    const rows = await db.query<AuditRow>('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2', [
      afterId,
      pageSize,
    ]);
    for (const row of rows) {
      const e = toEntry(row);
      if (e.prevHash !== prevHash || entryHash(prevHash, e) !== e.hash)
        return { ok: false, checked, firstBrokenId: e.id };
      if (anchor && e.id === anchor.id) {
        if (e.hash !== anchor.hash) return { ok: false, checked, firstBrokenId: e.id, anchor: 'changed' };
        anchorSeen = true;
      }
      prevHash = e.hash;
      head = { id: e.id, hash: e.hash };
      checked += 1;
    }
    if (rows.length < pageSize) break;
    afterId = Number(rows.at(-1)?.id);
  }
  if (anchor && !anchorSeen)
    return { ok: false, checked, firstBrokenId: anchor.id, anchor: 'missing', ...(head ? { head } : {}) };
  return { ok: true, checked, ...(head ? { head } : {}), ...(anchor ? { anchor: 'matched' as const } : {}) };
}

/** Verifies the chain and records the check, with what it found, as an entry of its own. */
export async function verifyAndRecord(
  db: Database,
  at: Date,
  actorId: string,
  anchor?: ChainHead,
): Promise<VerifyResult> {
  const result = await verifyAudit(db, { anchor });
  await db.transaction((tx) =>
    appendAudit(tx, at, { actorId, action: 'audit.verified', outcome: 'ok', details: { ...result } }),
  );
  return result;
}
