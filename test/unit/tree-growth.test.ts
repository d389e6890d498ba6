import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frontierRefs, growTree, type StoredSubtree, sourceOf } from '../../src/audit/tree-growth.js';
import { consistencyProof, inclusionProof, leafHash, treeRoot } from '../../src/crypto/merkle.js';
import { rfc9162 } from '../helpers/rfc9162.js';

/** Grows a stored tree in batches, as the sequencer does, keeping only what growTree returns. */
function grownInBatches(leaves: Buffer[], batches: number[]): StoredSubtree[] {
  const stored = new Map<string, StoredSubtree>();
  let size = 0;
  for (const b of batches) {
    const frontier = frontierRefs(size).map((r) => {
      const s = stored.get(`${r.level}/${r.index}`);
      if (!s) throw new Error(`frontier ${r.level}/${r.index} not stored`);
      return s;
    });
    for (const s of growTree(frontier, size, leaves.slice(size, size + b))) {
      const key = `${s.level}/${s.index}`;
      expect(stored.has(key), `subtree ${key} created twice`).toBe(false);
      stored.set(key, s);
    }
    size += b;
  }
  return [...stored.values()];
}

describe('growing the stored audit tree', () => {
  it('lists the frontier of a tree: one perfect subtree per set bit', () => {
    expect(frontierRefs(0)).toEqual([]);
    expect(frontierRefs(1)).toEqual([{ level: 0, index: 0 }]);
    expect(frontierRefs(7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(frontierRefs(8)).toEqual([{ level: 3, index: 0 }]);
  });

  it('stores exactly the perfect subtrees, whatever the batches, and answers every proof like the RFC', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }), (batches) => {
        const n = batches.reduce((a, b) => a + b, 0);
        const leaves = Array.from({ length: n }, () => leafHash(randomBytes(8)));
        const stored = grownInBatches(leaves, batches);
        // A tree of n leaves has this many perfect subtrees: sum over levels of floor(n / 2^level).
        let perfect = 0;
        for (let w = 1; w <= n; w *= 2) perfect += Math.floor(n / w);
        expect(stored.length).toBe(perfect);
        const ref = rfc9162(leaves);
        const source = sourceOf(stored);
        for (let size = 1; size <= n; size++) {
          expect(treeRoot(source, size).equals(ref.MTH(size))).toBe(true);
          const m = Math.floor(size / 2);
          expect(consistencyProof(source, m, size)).toEqual(ref.PROOF(m, size));
          expect(inclusionProof(source, size - 1, size)).toEqual(ref.PATH(size - 1, size));
        }
      }),
      { numRuns: 15 },
    );
  });

  it('matches the RFC on a few thousand leaves grown in uneven batches', () => {
    const leaves = Array.from({ length: 3001 }, () => leafHash(randomBytes(8)));
    const stored = grownInBatches(leaves, [1, 2, 997, 0, 1000, 1, 1000]);
    const ref = rfc9162(leaves);
    const source = sourceOf(stored);
    for (const size of [1, 2, 3, 1000, 1024, 2047, 2048, 3001]) {
      expect(treeRoot(source, size).equals(ref.MTH(size))).toBe(true);
      for (const index of [0, Math.floor(size / 3), size - 1])
        expect(inclusionProof(source, index, size)).toEqual(ref.PATH(index, size));
      for (const from of [1, Math.floor(size / 2), size - 1])
        if (from > 0) expect(consistencyProof(source, from, size)).toEqual(ref.PROOF(from, size));
    }
  });

  it('refuses to grow a tree whose frontier it was not given', () => {
    expect(() => growTree([], 3, [leafHash(Buffer.from('x'))])).toThrow(/not in the frontier/);
  });
});
