import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_OVERHEAD, decryptChunk, encryptChunk, inspectChunk } from '../../src/crypto/chunk-format.js';
import { ChunkIntegrityError } from '../../src/crypto/errors.js';
import { getSodium } from '../../src/crypto/sodium.js';
import { chunkWindow, decideRange, totalLength } from '../../src/domain/byte-ranges.js';

beforeAll(async () => {
  await getSodium();
});

const key = new Uint8Array(32).fill(3);

describe('chunk parser properties', () => {
  it('inspectChunk classifies any bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const shape = inspectChunk(bytes);
        if (bytes.length < CHUNK_OVERHEAD) expect(shape).toEqual({ ok: false, reason: 'too_short' });
        else if (bytes[0] !== 1) expect(shape).toEqual({ ok: false, reason: 'bad_version' });
        else expect(shape).toEqual({ ok: true, plaintextLength: bytes.length - CHUNK_OVERHEAD });
      }),
    );
  });

  it('decryptChunk on arbitrary bytes only ever throws ChunkIntegrityError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(1000), fc.boolean(), (bytes, seq, final) => {
        try {
          decryptChunk({ contentKey: key, recordingId: 'rec_p', seq, final, chunk: bytes });
          expect.unreachable('random bytes authenticated');
        } catch (err) {
          expect(err).toBeInstanceOf(ChunkIntegrityError);
        }
      }),
    );
  });

  it('round-trips any plaintext, and any single flipped bit is caught', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(100_000),
        fc.boolean(),
        fc.nat(),
        (plaintext, seq, final, where) => {
          const chunk = encryptChunk({ contentKey: key, recordingId: 'rec_p', seq, final, plaintext });
          expect(decryptChunk({ contentKey: key, recordingId: 'rec_p', seq, final, chunk })).toEqual(plaintext);
          const tampered = new Uint8Array(chunk);
          const i = where % tampered.length;
          tampered[i] = (tampered[i] ?? 0) ^ (1 << (where % 8));
          expect(() => decryptChunk({ contentKey: key, recordingId: 'rec_p', seq, final, chunk: tampered })).toThrow(
            ChunkIntegrityError,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('range math properties', () => {
  const sizes = fc.array(fc.nat(50), { minLength: 1, maxLength: 20 });

  it('every satisfiable range maps to exactly the chunks it touches, and the bytes add up', () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(), (plaintextSizes, a, b) => {
        const total = totalLength(plaintextSizes);
        fc.pre(total > 0);
        const start = a % total;
        const end = start + (b % (total - start));
        const w = chunkWindow(plaintextSizes, { start, end });
        expect(w).not.toBeNull();
        if (!w) return;
        // Rebuild the plaintext as byte positions and slice the window out of it.
        const offsets: number[] = [];
        let at = 0;
        for (const s of plaintextSizes) {
          offsets.push(at);
          at += s;
        }
        expect(offsets[w.firstIndex]! + w.skip).toBe(start);
        expect(start).toBeLessThan(offsets[w.firstIndex]! + plaintextSizes[w.firstIndex]!);
        expect(end).toBeGreaterThanOrEqual(offsets[w.lastIndex]!);
        expect(end).toBeLessThan(offsets[w.lastIndex]! + plaintextSizes[w.lastIndex]!);
        expect(w.length).toBe(end - start + 1);
        // No chunk outside the window holds a byte of the range.
        plaintextSizes.forEach((s, i) => {
          if (i < w.firstIndex || i > w.lastIndex) expect(offsets[i]! + s <= start || offsets[i]! > end).toBe(true);
        });
      }),
    );
  });

  it('decideRange answers partial within bounds, unsatisfiable, or full — never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.nat(10_000), (header, total) => {
        const d = decideRange(`bytes=${header}`, total);
        if (d.kind === 'partial') {
          expect(d.range.start).toBeGreaterThanOrEqual(0);
          expect(d.range.end).toBeLessThan(total);
          expect(d.range.start).toBeLessThanOrEqual(d.range.end);
        }
      }),
    );
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(1000), (start, len, total) => {
        const d = decideRange(`bytes=${start}-${start + len}`, total);
        if (start < total)
          expect(d).toEqual({ kind: 'partial', range: { start, end: Math.min(start + len, total - 1) } });
        else expect(d.kind).toBe('unsatisfiable');
      }),
    );
  });
});
