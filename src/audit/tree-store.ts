import { type SubtreeRef, type SubtreeSource, subtreesFor } from '../crypto/merkle.js';
import { VaultError } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import { type StoredSubtree, sourceOf, subtreeKey } from './tree-growth.js';

/**
 * @module
 * The audit tree's perfect subtrees in PostgreSQL (table audit_tree). A
 * proof is computed twice: once against placeholders to learn which
 * subtrees it reads, then for real over those, fetched in one query.
 */

export async function readSubtrees(db: Queryable, refs: readonly SubtreeRef[]): Promise<StoredSubtree[]> {
  if (refs.length === 0) return [];
  const rows = await db.query<{ level: number; idx: number; hash: Buffer }>(
    `SELECT t.level, t.idx, t.hash FROM audit_tree t
       JOIN unnest($1::smallint[], $2::bigint[]) AS want(level, idx) ON t.level = want.level AND t.idx = want.idx`,
    [refs.map((r) => r.level), refs.map((r) => r.index)],
  );
  return rows.map((r) => ({ level: r.level, index: r.idx, hash: r.hash }));
}

export async function writeSubtrees(tx: Queryable, subtrees: readonly StoredSubtree[]): Promise<void> {
  if (subtrees.length === 0) return;
  await tx.query(
    'INSERT INTO audit_tree (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])',
    [subtrees.map((s) => s.level), subtrees.map((s) => s.index), subtrees.map((s) => s.hash)],
  );
}

/** Runs a computation over the stored tree (plus subtrees not yet stored, `extra`), reading what it needs once. */
export async function overStoredTree<T>(
  db: Queryable,
  compute: (source: SubtreeSource) => T,
  extra: readonly StoredSubtree[] = [],
): Promise<T> {
  const have = new Set(extra.map(subtreeKey));
  const refs = subtreesFor(compute).filter((r) => !have.has(subtreeKey(r)));
  const stored = await readSubtrees(db, refs);
  if (stored.length !== refs.length) throw treeIntegrity('the stored audit tree lacks subtrees a proof needs');
  return compute(sourceOf([...extra, ...stored]));
}

/** The stored tree does not agree with itself or with a signed checkpoint: the log refuses to sign or prove. */
export const treeIntegrity = (message: string): VaultError =>
  new VaultError('integrity', 'audit_log_integrity', message);
