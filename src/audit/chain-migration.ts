import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../json.js';
import type { Database } from '../store/db/database.js';
import { type AuditRow, appendAudit, entryContent, toEntry } from './audit-log.js';

/**
 * @module
 * The entries written while the log was a hash chain (before migration 060)
 * become the first leaves of the tree, in id order, like any unsequenced
 * entry. Before that, their chain is checked once the old way, and what the
 * check found is recorded as an entry of its own (`audit.chain_migrated`),
 * so the tree carries the chain's last verdict.
 */
const GENESIS_HASH = '0'.repeat(64);
// Several servers may start at once: one records the verdict.
const CHAIN_MIGRATION_LOCK = 7_042_004;

function chainHash(prevHash: string, r: AuditRow): string {
  const content = canonicalJson(entryContent(toEntry(r)));
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

type ChainRow = AuditRow & { prev_hash: string | null; hash: string | null };

/** Checks the old chain and records its verdict, once; null when there is no chain or it was recorded already. */
export async function recordChainVerdict(db: Database, at: Date): Promise<{ [key: string]: JsonValue } | null> {
  const [chain] = await db.query('SELECT 1 FROM audit_log WHERE hash IS NOT NULL LIMIT 1');
  if (!chain) return null;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_MIGRATION_LOCK]);
    const [done] = await tx.query("SELECT 1 FROM audit_log WHERE action = 'audit.chain_migrated' LIMIT 1");
    if (done) return null;
    const rows = await tx.query<ChainRow>('SELECT * FROM audit_log WHERE hash IS NOT NULL ORDER BY id');
    if (rows.length === 0) return null;
    let prev = GENESIS_HASH;
    let checked = 0;
    let firstBrokenId: string | null = null;
    for (const r of rows) {
      if (r.prev_hash !== prev || chainHash(prev, r) !== r.hash) {
        firstBrokenId = String(r.id);
        break;
      }
      prev = r.hash;
      checked += 1;
    }
    const last = rows.at(-1);
    const verdict: { [key: string]: JsonValue } = {
      ok: firstBrokenId === null,
      checked,
      entries: rows.length,
      head: { id: String(last?.id), hash: last?.hash ?? null },
      ...(firstBrokenId ? { firstBrokenId } : {}),
    };
    await appendAudit(tx, at, {
      actorId: 'system:sequencer',
      action: 'audit.chain_migrated',
      outcome: firstBrokenId === null ? 'ok' : 'failed',
      details: verdict,
    });
    return verdict;
  });
}
