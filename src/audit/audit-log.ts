import type { AuditAction, AuditOutcome } from '../domain/vocabulary.js';
import { canonicalBytes, type JsonValue } from '../json.js';

export type { AuditAction, AuditOutcome };

import { leafHash } from '../crypto/merkle.js';
import type { Queryable } from '../store/db/database.js';

/**
 * @module
 * The audit log's entries: the leaves of a transparency log (RFC 9162).
 * Writers append an entry in the same transaction as the action it records
 * and take no log-wide lock: the entry has no `index` until the sequencer
 * (src/audit/sequencer.ts) integrates it into the tree and signs a
 * checkpoint over it. Never put a secret (token, key, plaintext) into `details`.
 */

export interface AuditEntryInput {
  actorId: string | null;
  action: AuditAction;
  outcome: AuditOutcome;
  orderId?: string | null;
  recordingId?: string | null;
  details?: { [key: string]: JsonValue };
}

/** What a leaf hash covers (SPEC, The audit log). A type, so that it is a JsonValue. */
export type AuditLeaf = {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  outcome: AuditOutcome;
  orderId: string | null;
  recordingId: string | null;
  details: { [key: string]: JsonValue };
};

export type AuditEntry = AuditLeaf & {
  /** the leaf's 0-based place in the tree; null until the sequencer has integrated it */
  index: number | null;
};

export interface AuditRow {
  id: number;
  at: Date;
  actor_id: string | null;
  action: string;
  outcome: AuditOutcome;
  order_id: string | null;
  recording_id: string | null;
  details: { [key: string]: JsonValue };
  leaf_index: number | null;
  leaf_hash: Buffer | null;
}

/** The entry as SPEC names it, `{ id, at, actorId, action, outcome, orderId, recordingId, details }`: what is hashed. */
export function entryContent(e: AuditLeaf): { [key: string]: JsonValue } {
  return {
    id: e.id,
    at: e.at,
    actorId: e.actorId,
    action: e.action,
    outcome: e.outcome,
    orderId: e.orderId,
    recordingId: e.recordingId,
    details: e.details,
  };
}

/** Leaf hash = SHA-256(0x00 || RFC 8785 canonical JSON of the entry). */
export function auditLeafHash(e: AuditLeaf): Buffer {
  return leafHash(canonicalBytes(entryContent(e)));
}

export async function appendAudit(tx: Queryable, at: Date, input: AuditEntryInput): Promise<AuditEntry> {
  const details = input.details ?? {};
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO audit_log (at, actor_id, action, outcome, order_id, recording_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      at,
      input.actorId,
      input.action,
      input.outcome,
      input.orderId ?? null,
      input.recordingId ?? null,
      JSON.stringify(details),
    ],
  );
  if (!row) throw new Error('audit insert returned no id');
  return {
    id: String(row.id),
    at: at.toISOString(),
    actorId: input.actorId,
    action: input.action,
    outcome: input.outcome,
    orderId: input.orderId ?? null,
    recordingId: input.recordingId ?? null,
    details,
    index: null,
  };
}

/**
 * Several entries in one statement (one round trip), at the same time, in the
 * order given: what a group commit of many actions writes (chunk uploads).
 */
export async function appendAudits(tx: Queryable, at: Date, inputs: readonly AuditEntryInput[]): Promise<void> {
  if (inputs.length === 0) return;
  const rows = await tx.query<{ id: number }>(
    `INSERT INTO audit_log (at, actor_id, action, outcome, order_id, recording_id, details)
     SELECT $1, e.actor_id, e.action, e.outcome, e.order_id, e.recording_id, e.details
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
            WITH ORDINALITY AS e(actor_id, action, outcome, order_id, recording_id, details, n)
      ORDER BY e.n
     RETURNING id`,
    [
      at,
      inputs.map((i) => i.actorId),
      inputs.map((i) => i.action),
      inputs.map((i) => i.outcome),
      inputs.map((i) => i.orderId ?? null),
      inputs.map((i) => i.recordingId ?? null),
      inputs.map((i) => JSON.stringify(i.details ?? {})),
    ],
  );
  if (rows.length !== inputs.length) throw new Error('audit insert stored fewer entries than given');
}

export function toEntry(r: AuditRow): AuditEntry {
  return {
    id: String(r.id),
    at: r.at.toISOString(),
    actorId: r.actor_id,
    action: r.action,
    outcome: r.outcome,
    orderId: r.order_id,
    recordingId: r.recording_id,
    details: r.details,
    index: r.leaf_index,
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

/** Sequenced entries by leaf index, [start, end), in index order. */
export async function entriesByIndex(db: Queryable, start: number, end: number): Promise<AuditEntry[]> {
  const rows = await db.query<AuditRow>(
    'SELECT * FROM audit_log WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index',
    [start, end],
  );
  return rows.map(toEntry);
}
