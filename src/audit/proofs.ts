import { consistencyProof, inclusionProof } from '../crypto/merkle.js';
import { badRequest } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import { newestCheckpoint } from './sequencer.js';
import { overStoredTree, readSubtrees, treeIntegrity } from './tree-store.js';

/**
 * @module
 * RFC 9162 proofs over the stored tree, for any tree size a checkpoint was
 * signed at or below: O(log n) subtrees, read in one query. Hashes are hex.
 */
export interface InclusionAnswer {
  index: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
}

export interface ConsistencyAnswer {
  from: number;
  to: number;
  hashes: string[];
}

const hex = (hashes: readonly Buffer[]): string[] => hashes.map((h) => h.toString('hex'));

async function signedSize(db: Queryable): Promise<number> {
  return (await newestCheckpoint(db))?.size ?? 0;
}

export async function proveInclusion(db: Queryable, index: number, treeSize: number): Promise<InclusionAnswer> {
  const size = await signedSize(db);
  if (treeSize < 1 || treeSize > size)
    throw badRequest('treeSize', `treeSize must be between 1 and the newest checkpoint's size (${size})`);
  if (index >= treeSize) throw badRequest('index', `index must be below treeSize (${treeSize})`);
  const [leaf] = await readSubtrees(db, [{ level: 0, index }]);
  if (!leaf) throw treeIntegrity(`the stored tree lacks leaf ${index}`);
  const hashes = await overStoredTree(db, (s) => inclusionProof(s, index, treeSize));
  return { index, treeSize, leafHash: leaf.hash.toString('hex'), hashes: hex(hashes) };
}

export async function proveConsistency(db: Queryable, from: number, to: number): Promise<ConsistencyAnswer> {
  const size = await signedSize(db);
  if (to > size) throw badRequest('to', `to must be at most the newest checkpoint's size (${size})`);
  if (from > to) throw badRequest('from', 'from must be at most to');
  const hashes = await overStoredTree(db, (s) => consistencyProof(s, from, to));
  return { from, to, hashes: hex(hashes) };
}
