import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  memorySource,
  nodeHash,
  rootOfLeaves,
  subtreesFor,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/crypto/merkle.js';
import { rfc9162 } from '../helpers/rfc9162.js';

/**
 * The second implementation (test/helpers/rfc9162.ts, from RFC 9162 §2.1's recursive definitions), fed
 * leaf hashes computed here from the leaf inputs, to check the one src/ uses against.
 */
const H = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const reference = (D: Buffer[]) => rfc9162(D.map((d) => H(Buffer.from([0]), d)));

const leaves = (n: number, seed = 'leaf') => Array.from({ length: n }, (_, i) => Buffer.from(`${seed}-${i}`));
const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'));

describe('RFC 9162 §2.1.5 worked example (seven leaves d0..d6)', () => {
  const d = leaves(7, 'd');
  const [a, b, c, dd, e, f, j] = d.map((x) => leafHash(x)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const g = nodeHash(a, b);
  const h = nodeHash(c, dd);
  const i = nodeHash(e, f);
  const kk = nodeHash(g, h);
  const l = nodeHash(i, j);
  const root = nodeHash(kk, l);
  const src = memorySource(d.map((x) => leafHash(x)));

  it('has the root the figure draws', () => {
    expect(treeRoot(src, 7).equals(root)).toBe(true);
    expect(reference(d).MTH(7).equals(root)).toBe(true);
  });

  it('gives the inclusion proofs the RFC lists', () => {
    expect(hex(inclusionProof(src, 0, 7))).toEqual(hex([b, h, l]));
    expect(hex(inclusionProof(src, 3, 7))).toEqual(hex([c, g, l]));
    expect(hex(inclusionProof(src, 4, 7))).toEqual(hex([f, j, kk]));
    expect(hex(inclusionProof(src, 6, 7))).toEqual(hex([i, kk]));
  });

  it('gives the consistency proofs the RFC lists', () => {
    expect(hex(consistencyProof(src, 3, 7))).toEqual(hex([c, dd, g, l]));
    expect(hex(consistencyProof(src, 4, 7))).toEqual(hex([l]));
    expect(hex(consistencyProof(src, 6, 7))).toEqual(hex([i, j, kk]));
  });

  it('verifies them, and refuses them against the wrong root or leaf', () => {
    expect(verifyInclusion(leafHash(d[3]!), 3, 7, [c, g, l], root)).toBe(true);
    expect(verifyInclusion(leafHash(d[2]!), 3, 7, [c, g, l], root)).toBe(false);
    expect(verifyInclusion(leafHash(d[3]!), 3, 7, [c, g, l], kk)).toBe(false);
    const root3 = nodeHash(g, c);
    expect(verifyConsistency(3, 7, root3, root, [c, dd, g, l])).toBe(true);
    expect(verifyConsistency(3, 7, g, root, [c, dd, g, l])).toBe(false);
    expect(verifyConsistency(4, 7, kk, root, [l])).toBe(true);
  });

  it('has the empty tree hash SHA-256 of nothing', () => {
    expect(emptyRoot().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootOfLeaves([]).equals(emptyRoot())).toBe(true);
  });
});

describe('against the RFC pseudo-code, random trees up to 3,000 leaves', () => {
  const all = Array.from({ length: 3000 }, () => randomBytes(24));
  const src = memorySource(all.map((x) => leafHash(x)));
  const ref = reference(all);

  it('roots, inclusion and consistency proofs agree and verify', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3000 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n }))),
        ([n, m, from]) => {
          const root = ref.MTH(n);
          expect(treeRoot(src, n).equals(root)).toBe(true);
          const path = inclusionProof(src, m, n);
          expect(hex(path)).toEqual(hex(ref.PATH(m, n)));
          expect(verifyInclusion(leafHash(all[m]!), m, n, path, root)).toBe(true);
          const proof = consistencyProof(src, from, n);
          expect(hex(proof)).toEqual(hex(ref.PROOF(from, n)));
          expect(verifyConsistency(from, n, ref.MTH(from), root, proof)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses any proof with one bit flipped, a wrong index or a wrong size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1500 }), fc.nat(), fc.nat(), (n, a, bit) => {
        const m = a % n;
        const root = treeRoot(src, n);
        const path = inclusionProof(src, m, n);
        const leaf = leafHash(all[m]!);
        if (path.length > 0) {
          const bad = path.map((p) => Buffer.from(p));
          const which = bit % bad.length;
          bad[which]![bit % 32]! ^= 1 << (bit % 8);
          expect(verifyInclusion(leaf, m, n, bad, root)).toBe(false);
        }
        expect(verifyInclusion(leaf, (m + 1) % n, n, path, root)).toBe(false);
        expect(verifyInclusion(leaf, m, n + 1, path, treeRoot(src, n + 1))).toBe(false);
        const from = 1 + (a % (n - 1));
        const proof = consistencyProof(src, from, n);
        const bad = proof.map((p) => Buffer.from(p));
        bad[bit % bad.length]![bit % 32]! ^= 1 << (bit % 8);
        expect(verifyConsistency(from, n, treeRoot(src, from), root, bad)).toBe(false);
        expect(verifyConsistency(from, n, treeRoot(src, from), root, [])).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('reads O(log n) perfect subtrees per proof, listed before they are read', () => {
    for (const n of [1, 2, 3, 7, 1000, 2047, 2048, 2049, 3000]) {
      const refs = subtreesFor((s) => inclusionProof(s, n - 1, n));
      expect(refs.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n + 1)) + 1);
      const cons = subtreesFor((s) => consistencyProof(s, Math.max(1, n >> 1), n));
      expect(cons.length).toBeLessThanOrEqual(3 * Math.ceil(Math.log2(n + 1)) + 1);
    }
  });
});
