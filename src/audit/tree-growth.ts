import { type Hash, nodeHash, type SubtreeRef, type SubtreeSource } from '../crypto/merkle.js';

/**
 * @module
 * How the stored tree grows: the audit log keeps every perfect subtree
 * (2^level leaves from index·2^level), so any range hash a proof needs is at
 * most O(log n) reads (src/crypto/merkle.ts `subtreesFor`). Appending leaves
 * to a tree of `size` needs only its frontier, the perfect subtrees that
 * make up [0, size); it creates every perfect subtree that the new leaves
 * complete. Pure: the store reads and writes around it (tree-store.ts).
 */
export interface StoredSubtree extends SubtreeRef {
  hash: Hash;
}

export const subtreeKey = (ref: SubtreeRef): string => `${ref.level}/${ref.index}`;

/** The perfect subtrees that make up [0, size), largest first: one per set bit of size. */
export function frontierRefs(size: number): SubtreeRef[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('tree size must be a non-negative integer');
  const refs: SubtreeRef[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
    const width = 2 ** level;
    if (size - start >= width) {
      refs.push({ level, index: start / width });
      start += width;
    }
  }
  return refs;
}

/**
 * The perfect subtrees created by appending `leaves` (leaf hashes) to a tree
 * of `size` leaves whose frontier is given; leaves first, then level by level.
 */
export function growTree(frontier: readonly StoredSubtree[], size: number, leaves: readonly Hash[]): StoredSubtree[] {
  const known = new Map<string, Hash>(frontier.map((s) => [subtreeKey(s), s.hash]));
  const created: StoredSubtree[] = [];
  const add = (level: number, index: number, hash: Hash) => {
    known.set(subtreeKey({ level, index }), hash);
    created.push({ level, index, hash });
  };
  const get = (level: number, index: number): Hash => {
    const h = known.get(subtreeKey({ level, index }));
    if (!h) throw new RangeError(`subtree ${level}/${index} is not in the frontier of a tree of ${size}`);
    return h;
  };
  leaves.forEach((h, i) => {
    add(0, size + i, h);
  });
  const newSize = size + leaves.length;
  for (let level = 1, width = 2; width <= newSize; level++, width *= 2) {
    // A node is new when it ends past the old size and is complete in the new tree.
    for (let i = Math.floor(size / width); (i + 1) * width <= newSize; i++) {
      add(level, i, nodeHash(get(level - 1, 2 * i), get(level - 1, 2 * i + 1)));
    }
  }
  return created;
}

/** A SubtreeSource over a set of stored subtrees; asking for one it lacks is a bug in the caller's read. */
export function sourceOf(subtrees: Iterable<StoredSubtree>): SubtreeSource {
  const map = new Map<string, Hash>();
  for (const s of subtrees) map.set(subtreeKey(s), s.hash);
  return (ref) => {
    const h = map.get(subtreeKey(ref));
    if (!h) throw new RangeError(`subtree ${subtreeKey(ref)} was not read`);
    return h;
  };
}
