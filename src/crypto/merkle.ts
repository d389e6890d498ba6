import { createHash } from 'node:crypto';

/**
 * @module
 * Merkle trees as RFC 9162 §2.1 defines them (Certificate Transparency v2),
 * shared by the audit log (a transparency log) and the chunk manifests of
 * upload receipts. Pure: no store, no clock.
 *
 *   MTH({})      = SHA-256()
 *   leaf hash    = SHA-256(0x00 || leaf input)
 *   node hash    = SHA-256(0x01 || left || right)
 *   MTH(D[n])    = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Proof generation reads the tree through a SubtreeSource: the hash of a
 * *perfect* subtree (2^level leaves starting at index·2^level). A store keeps
 * those (see src/audit), tests and manifests compute them from leaf hashes.
 * Any range hash a proof needs decomposes into O(log n) perfect subtrees;
 * `subtreesFor` lists them up front, so a store can fetch them in one read.
 */
export type Hash = Buffer<ArrayBufferLike>;

export const HASH_BYTES = 32;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const emptyRoot = (): Hash => sha256();
export const leafHash = (leafInput: Uint8Array): Hash => sha256(LEAF_PREFIX, leafInput);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Hash => sha256(NODE_PREFIX, left, right);

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A perfect subtree: 2^level leaves starting at leaf index·2^level. */
export interface SubtreeRef {
  level: number;
  index: number;
}

/** Returns the hash of a perfect subtree; level 0 is a leaf hash. */
export type SubtreeSource = (ref: SubtreeRef) => Hash;

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** MTH(D[start:end]) from perfect subtrees: O(log n) of them for any range a proof asks for. */
export function rangeHash(source: SubtreeSource, start: number, end: number): Hash {
  const n = end - start;
  if (n <= 0) throw new RangeError('empty range');
  if (isPowerOfTwo(n) && start % n === 0) return source({ level: Math.log2(n), index: start / n });
  const k = splitPoint(n);
  return nodeHash(rangeHash(source, start, start + k), rangeHash(source, start + k, end));
}

/** The root hash of a tree of `size` leaves. */
export function treeRoot(source: SubtreeSource, size: number): Hash {
  return size === 0 ? emptyRoot() : rangeHash(source, 0, size);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path of leaf m in the tree of the first n leaves. */
export function inclusionProof(source: SubtreeSource, index: number, size: number): Hash[] {
  assertIndex(index, size);
  const path: Hash[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      path.push(rangeHash(source, start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(rangeHash(source, start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): proves the tree of m leaves is a prefix of the tree of n leaves. */
export function consistencyProof(source: SubtreeSource, from: number, to: number): Hash[] {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
    throw new RangeError('consistency needs 0 <= from <= to');
  }
  if (from === 0 || from === to) return [];
  const proof: Hash[] = [];
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) proof.push(rangeHash(source, start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, complete);
      proof.push(rangeHash(source, start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(rangeHash(source, start, start + k));
    }
  };
  sub(from, 0, to, true);
  return proof;
}

/**
 * The perfect subtrees a computation over a SubtreeSource reads, found by
 * running it once against placeholder hashes. A store fetches exactly these
 * (in one query) and runs the computation again for real.
 */
export function subtreesFor<T>(compute: (source: SubtreeSource) => T): SubtreeRef[] {
  const seen = new Map<string, SubtreeRef>();
  compute((ref) => {
    seen.set(`${ref.level}/${ref.index}`, ref);
    return Buffer.alloc(HASH_BYTES);
  });
  return [...seen.values()];
}

/** A SubtreeSource over leaf hashes held in memory (chunk manifests, tests). */
export function memorySource(leafHashes: readonly Hash[]): SubtreeSource {
  const cache = new Map<string, Hash>();
  const perfect = ({ level, index }: SubtreeRef): Hash => {
    if (level === 0) {
      const leaf = leafHashes[index];
      if (!leaf) throw new RangeError(`no leaf ${index}`);
      return leaf;
    }
    const key = `${level}/${index}`;
    let h = cache.get(key);
    if (!h) {
      h = nodeHash(
        perfect({ level: level - 1, index: 2 * index }),
        perfect({ level: level - 1, index: 2 * index + 1 }),
      );
      cache.set(key, h);
    }
    return h;
  };
  return perfect;
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with `leaf` hash in the tree of `size` with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Hash = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (from, fromRoot) is a prefix of (to, toRoot)? */
export function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) return false;
  if (from === to) return proof.length === 0 && Buffer.from(fromRoot).equals(toRoot);
  // An empty tree is a prefix of every tree; it has no root to prove anything about.
  if (from === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = [...proof];
  // If first is an exact power of two, the old root itself is the first node of the path.
  if (isPowerOfTwo(from)) path.unshift(Buffer.from(fromRoot));
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Hash = Buffer.from(path[0] as Uint8Array);
  let sr: Hash = Buffer.from(path[0] as Uint8Array);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0;
}

function assertIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError('inclusion needs 0 <= index < size');
  }
}

/** The root of a list of leaf hashes held in memory (chunk manifests). */
export function rootOfLeaves(leafHashes: readonly Hash[]): Hash {
  return treeRoot(memorySource(leafHashes), leafHashes.length);
}
