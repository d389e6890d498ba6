import { beforeAll, describe, expect, it } from 'vitest';
import {
  CHUNK_OVERHEAD,
  decryptChunk,
  encryptChunk,
  inspectChunk,
  plaintextLength,
} from '../../src/crypto/chunk-format.js';
import { ChunkIntegrityError } from '../../src/crypto/errors.js';
import { getSodium } from '../../src/crypto/sodium.js';
import vectors from './crypto-vectors.json' with { type: 'json' };

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(async () => {
  await getSodium();
});

describe('chunk format known-answer vectors', () => {
  it.each(vectors.chunks)('recomputes $recordingId seq $seq byte for byte and opens it', (v) => {
    const ctx = { contentKey: fromHex(v.contentKey), recordingId: v.recordingId, seq: v.seq, final: v.final };
    const chunk = encryptChunk({ ...ctx, plaintext: fromHex(v.plaintext), nonce: fromHex(v.nonce) });
    expect(toHex(chunk)).toBe(v.chunk);
    expect(chunk[0]).toBe(0x01);
    expect(toHex(chunk.subarray(1, 25))).toBe(v.nonce);
    expect(chunk.length).toBe(fromHex(v.plaintext).length + CHUNK_OVERHEAD);
    expect(toHex(decryptChunk({ ...ctx, chunk: fromHex(v.chunk) }))).toBe(v.plaintext);
  });
});

describe('the format as SPEC words it, checked with raw libsodium', () => {
  it('is 0x01 || nonce || XChaCha20-Poly1305-IETF with AAD "visit-vault/v1|recordingId|seq|final"', async () => {
    const sodium = await getSodium();
    for (const v of vectors.chunks) {
      const chunk = fromHex(v.chunk);
      const aad = `visit-vault/v1|${v.recordingId}|${v.seq}|${v.final ? 1 : 0}`;
      const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        chunk.subarray(25),
        aad,
        chunk.subarray(1, 25),
        fromHex(v.contentKey),
      );
      expect(toHex(plain)).toBe(v.plaintext);
    }
  });
});

describe('chunk tampering: every change fails to open', () => {
  const v = vectors.chunks[0]!;
  const ctx = { contentKey: fromHex(v.contentKey), recordingId: v.recordingId, seq: v.seq, final: v.final };
  const flip = (index: number) => {
    const c = fromHex(v.chunk);
    c[index] = (c[index] ?? 0) ^ 0x01;
    return c;
  };
  const last = fromHex(v.chunk).length - 1;

  it.each([
    ['version byte', () => decryptChunk({ ...ctx, chunk: flip(0) })],
    ['first nonce byte', () => decryptChunk({ ...ctx, chunk: flip(1) })],
    ['last nonce byte', () => decryptChunk({ ...ctx, chunk: flip(24) })],
    ['ciphertext byte', () => decryptChunk({ ...ctx, chunk: flip(30) })],
    ['tag byte', () => decryptChunk({ ...ctx, chunk: flip(last) })],
    ['truncated tag', () => decryptChunk({ ...ctx, chunk: fromHex(v.chunk).subarray(0, last) })],
    ['truncated to the header', () => decryptChunk({ ...ctx, chunk: fromHex(v.chunk).subarray(0, 25) })],
    ['wrong seq', () => decryptChunk({ ...ctx, seq: 1, chunk: fromHex(v.chunk) })],
    [
      'wrong recording id',
      () => decryptChunk({ ...ctx, recordingId: 'rec_00000000000000000000000000000002', chunk: fromHex(v.chunk) }),
    ],
    ['wrong final flag', () => decryptChunk({ ...ctx, final: true, chunk: fromHex(v.chunk) })],
    ['wrong key', () => decryptChunk({ ...ctx, contentKey: new Uint8Array(32), chunk: fromHex(v.chunk) })],
  ])('%s', (_name, open) => {
    expect(open).toThrow(ChunkIntegrityError);
  });

  it('detects two chunks swapped between seqs and between recordings', async () => {
    const sodium = await getSodium();
    const key = sodium.randombytes_buf(32);
    const a = encryptChunk({
      contentKey: key,
      recordingId: 'rec_a',
      seq: 0,
      final: false,
      plaintext: new Uint8Array([1, 2, 3]),
    });
    const b = encryptChunk({
      contentKey: key,
      recordingId: 'rec_a',
      seq: 1,
      final: true,
      plaintext: new Uint8Array([4, 5, 6]),
    });
    expect(() => decryptChunk({ contentKey: key, recordingId: 'rec_a', seq: 0, final: false, chunk: b })).toThrow(
      ChunkIntegrityError,
    );
    expect(() => decryptChunk({ contentKey: key, recordingId: 'rec_a', seq: 1, final: true, chunk: a })).toThrow(
      ChunkIntegrityError,
    );
    expect(() => decryptChunk({ contentKey: key, recordingId: 'rec_b', seq: 0, final: false, chunk: a })).toThrow(
      ChunkIntegrityError,
    );
    // Truncating a recording: the new last chunk was not encrypted as final.
    expect(() => decryptChunk({ contentKey: key, recordingId: 'rec_a', seq: 0, final: true, chunk: a })).toThrow(
      ChunkIntegrityError,
    );
  });

  it('never leaks plaintext or keys in the error message', () => {
    try {
      decryptChunk({ ...ctx, chunk: flip(30) });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain(v.contentKey);
      expect(String(err)).not.toContain(v.plaintext);
    }
  });
});

describe('inspectChunk (the server side, without keys)', () => {
  it('accepts version 1 with at least header and tag', () => {
    expect(inspectChunk(fromHex(vectors.chunks[0]!.chunk))).toEqual({ ok: true, plaintextLength: 28 });
    expect(inspectChunk(new Uint8Array(CHUNK_OVERHEAD).fill(1))).toEqual({ ok: true, plaintextLength: 0 });
  });
  it('rejects other versions and short bodies', () => {
    expect(inspectChunk(new Uint8Array(100).fill(2))).toEqual({ ok: false, reason: 'bad_version' });
    expect(inspectChunk(new Uint8Array(CHUNK_OVERHEAD - 1).fill(1))).toEqual({ ok: false, reason: 'too_short' });
    expect(inspectChunk(new Uint8Array(0))).toEqual({ ok: false, reason: 'too_short' });
  });
  it('computes plaintext length', () => {
    expect(plaintextLength(1041)).toBe(1000);
  });
});
