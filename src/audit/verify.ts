import type { LogKey } from '../crypto/log-key.js';
import { consistencyProof, type Hash, nodeHash, treeRoot, verifyConsistency } from '../crypto/merkle.js';
import type { NoteVerifier } from '../crypto/signed-note.js';
import { badRequest, isVaultError } from '../errors.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { Database } from '../store/db/database.js';
import { type AuditRow, appendAudit, auditLeafHash, toEntry } from './audit-log.js';
import { type Checkpoint, openCheckpoint } from './checkpoint.js';
import { newestCheckpoint } from './sequencer.js';
import { overStoredTree } from './tree-store.js';

/**
 * @module
 * Verifying the log: every sequenced entry's leaf hash is recomputed from its
 * content, the tree is rebuilt from them, and its roots must match the newest
 * signed checkpoint (the database's or the published one, whichever is newer:
 * a database cut back or rewritten cannot hide from what was published) and
 * an auditor's older checkpoint, whose consistency is proven too.
 */
export interface VerifyDeps {
  db: Database;
  logKey: LogKey;
  checkpoints: CheckpointStore;
}

// A type, not an interface, so that a result can go into an entry's details as JSON.
export type VerifyResult = {
  ok: boolean;
  /** sequenced entries whose leaf hashes were recomputed */
  checked: number;
  /** the newest signed checkpoint's size and root (hex) */
  treeSize: number;
  rootHash: string;
  firstBrokenId?: string;
  /** why the check failed, in words */
  reason?: string;
};

/** Builds the roots of a tree's prefixes from its leaf hashes, one leaf at a time, in O(log n) memory. */
class RootBuilder {
  private readonly stack: { size: number; hash: Hash }[] = [];
  size = 0;
  push(leaf: Hash): void {
    let node = { size: 1, hash: leaf };
    for (let top = this.stack.at(-1); top && top.size === node.size; top = this.stack.at(-1)) {
      this.stack.pop();
      node = { size: top.size * 2, hash: nodeHash(top.hash, node.hash) };
    }
    this.stack.push(node);
    this.size += 1;
  }
  root(): Hash {
    if (this.stack.length === 0) return treeRoot(() => Buffer.alloc(0), 0);
    let h = (this.stack.at(-1) as { hash: Hash }).hash;
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash((this.stack[i] as { hash: Hash }).hash, h);
    return h;
  }
}

const PAGE = 2000;

export const logVerifier = (key: LogKey): NoteVerifier => ({ name: key.origin, publicKey: key.publicKey });

/** `olderNote`: a checkpoint an auditor kept; a note that does not verify is bad input (400, field checkpoint). */
export async function verifyAudit(deps: VerifyDeps, options: { olderNote?: string } = {}): Promise<VerifyResult> {
  const verifier = logVerifier(deps.logKey);
  let older: Checkpoint | undefined;
  if (options.olderNote !== undefined) {
    const opened = await openCheckpoint(options.olderNote, verifier);
    if (!opened.ok) throw badRequest('checkpoint', `the checkpoint does not verify with the log key: ${opened.reason}`);
    older = opened;
  }
  const stored = await newestCheckpoint(deps.db);
  const candidates: Checkpoint[] = [];
  if (stored) {
    const opened = await openCheckpoint(stored.note, verifier);
    if (!opened.ok)
      return {
        ok: false,
        checked: 0,
        treeSize: stored.size,
        rootHash: '',
        reason: `stored checkpoint: ${opened.reason}`,
      };
    candidates.push(opened);
  }
  const publishedNote = await deps.checkpoints.latest();
  if (publishedNote !== null) {
    const opened = await openCheckpoint(publishedNote, verifier);
    if (!opened.ok)
      return { ok: false, checked: 0, treeSize: 0, rootHash: '', reason: `published checkpoint: ${opened.reason}` };
    candidates.push(opened);
  }
  const newest = candidates.reduce<Checkpoint | undefined>((a, c) => (a && a.size >= c.size ? a : c), undefined);
  const target: Checkpoint = newest ?? { origin: verifier.name, size: 0, rootHash: treeRoot(() => Buffer.alloc(0), 0) };
  const base = { treeSize: target.size, rootHash: target.rootHash.toString('hex') };
  if (older && older.size > target.size)
    return {
      ok: false,
      checked: 0,
      ...base,
      reason: `the log is smaller (${target.size}) than your checkpoint (${older.size})`,
    };

  // Roots to recompute: every checkpoint named, by size.
  const want = new Map<number, Hash[]>();
  for (const c of [...candidates, ...(older ? [older] : [])])
    want.set(c.size, [...(want.get(c.size) ?? []), c.rootHash]);

  const builder = new RootBuilder();
  let firstBrokenId: string | undefined;
  let broken: string | undefined;
  const checkRoots = (): void => {
    const expected = want.get(builder.size);
    if (!expected || broken) return;
    const root = builder.root();
    if (expected.some((h) => !h.equals(root)))
      broken = `the entries do not make the signed root of tree size ${builder.size}`;
  };
  checkRoots();
  while (builder.size < target.size) {
    const rows = await deps.db.query<AuditRow & { tree_leaf: Buffer | null }>(
      `SELECT a.*, t.hash AS tree_leaf FROM audit_log a
         LEFT JOIN audit_tree t ON t.level = 0 AND t.idx = a.leaf_index
        WHERE a.leaf_index >= $1 AND a.leaf_index < $2 ORDER BY a.leaf_index`,
      [builder.size, Math.min(target.size, builder.size + PAGE)],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.leaf_index !== builder.size) {
        broken ??= `entry ${builder.size} of the tree is missing`;
        firstBrokenId ??= String(row.id);
        break;
      }
      const leaf = auditLeafHash(toEntry(row));
      if (!firstBrokenId && (!row.leaf_hash?.equals(leaf) || !row.tree_leaf?.equals(leaf)))
        firstBrokenId = String(row.id);
      builder.push(leaf);
      checkRoots();
    }
    if (broken && !firstBrokenId) break;
    if (rows.at(-1)?.leaf_index !== builder.size - 1) break;
  }
  const checked = builder.size;
  if (checked < target.size)
    broken ??= `the log holds ${checked} sequenced entries, its newest checkpoint ${target.size}`;
  if (!broken && firstBrokenId) broken = 'an entry does not match the leaf hash stored for it';
  if (!broken && target.size > 0) {
    // The stored subtrees answer every proof: they must give the same root.
    const storedRoot = await overStoredTree(deps.db, (s) => treeRoot(s, target.size)).catch((err: unknown) => {
      if (isVaultError(err) && err.code === 'audit_log_integrity') return null;
      throw err;
    });
    if (!storedRoot?.equals(target.rootHash)) broken = 'the stored tree does not give the signed root';
  }
  if (!broken && older && older.size > 0 && older.size < target.size) {
    const proof = await overStoredTree(deps.db, (s) => consistencyProof(s, older.size, target.size));
    if (!verifyConsistency(older.size, target.size, older.rootHash, target.rootHash, proof))
      broken = 'the newest checkpoint is not consistent with yours';
  }
  if (broken) return { ok: false, checked, ...base, reason: broken, ...(firstBrokenId ? { firstBrokenId } : {}) };
  return { ok: true, checked, ...base };
}

/** Verifies the log and records the check, with what it found, as an entry of its own. */
export async function verifyAndRecord(
  deps: VerifyDeps & { clock: { now(): Date } },
  actorId: string,
  options: { olderNote?: string } = {},
): Promise<VerifyResult> {
  const result = await verifyAudit(deps, options);
  await deps.db.transaction((tx) =>
    appendAudit(tx, deps.clock.now(), { actorId, action: 'audit.verified', outcome: 'ok', details: { ...result } }),
  );
  return result;
}
