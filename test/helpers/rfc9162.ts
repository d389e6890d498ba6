import { createHash } from 'node:crypto';

/**
 * An independent RFC 9162 §2.1 implementation for tests, from the RFC's
 * recursive definitions over leaf hashes (no subtree store, no shortcuts):
 * what the vault serves is checked against it, not against itself.
 */
const H = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);

export function rfc9162(leafHashes: readonly Buffer[]) {
  const memo = new Map<string, Buffer>();
  const MTH = (lo: number, hi: number): Buffer => {
    const key = `${lo}:${hi}`;
    let h = memo.get(key);
    if (!h) {
      const n = hi - lo;
      if (n === 0) h = H();
      else if (n === 1) h = leafHashes[lo] as Buffer;
      else h = H(Buffer.from([1]), MTH(lo, lo + k(n)), MTH(lo + k(n), hi));
      memo.set(key, h);
    }
    return h;
  };
  const PATH = (m: number, lo: number, hi: number): Buffer[] => {
    if (hi - lo === 1) return [];
    const s = k(hi - lo);
    return m < s ? [...PATH(m, lo, lo + s), MTH(lo + s, hi)] : [...PATH(m - s, lo + s, hi), MTH(lo, lo + s)];
  };
  const SUBPROOF = (m: number, lo: number, hi: number, b: boolean): Buffer[] => {
    const n = hi - lo;
    if (m === n) return b ? [] : [MTH(lo, hi)];
    const s = k(n);
    return m <= s
      ? [...SUBPROOF(m, lo, lo + s, b), MTH(lo + s, hi)]
      : [...SUBPROOF(m - s, lo + s, hi, false), MTH(lo, lo + s)];
  };
  return {
    MTH: (n: number) => MTH(0, n),
    PATH: (m: number, n: number) => PATH(m, 0, n),
    PROOF: (m: number, n: number) => (m === 0 || m === n ? [] : SUBPROOF(m, 0, n, true)),
  };
}
