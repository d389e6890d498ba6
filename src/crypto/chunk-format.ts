import sodiumNative from 'sodium-native';
import { ChunkIntegrityError } from './errors.js';
import { sodiumReady } from './sodium.js';

/**
 * The chunk format (part of the contract; other client apps implement it):
 *   chunk = 0x01 || nonce(24) || XChaCha20-Poly1305-IETF ciphertext (incl. 16-byte tag)
 *   AAD   = UTF-8 "visit-vault/v1|<recordingId>|<seq in decimal>|<1 on the last chunk, else 0>"
 */
export const CHUNK_VERSION = 0x01;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const CHUNK_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export function chunkAad(recordingId: string, seq: number, final: boolean): Uint8Array {
  return new TextEncoder().encode(`visit-vault/v1|${recordingId}|${seq}|${final ? 1 : 0}`);
}

export interface ChunkContext {
  contentKey: Uint8Array;
  recordingId: string;
  seq: number;
  final: boolean;
}

/** `nonce` is for known-answer vectors only; otherwise a fresh random one. */
export function encryptChunk(input: ChunkContext & { plaintext: Uint8Array; nonce?: Uint8Array }): Uint8Array {
  const sodium = sodiumReady();
  const nonce = input.nonce ?? sodium.randombytes_buf(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) throw new RangeError('nonce must be 24 bytes');
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    input.plaintext,
    chunkAad(input.recordingId, input.seq, input.final),
    null,
    nonce,
    input.contentKey,
  );
  const out = new Uint8Array(1 + NONCE_BYTES + ct.length);
  out[0] = CHUNK_VERSION;
  out.set(nonce, 1);
  out.set(ct, 1 + NONCE_BYTES);
  return out;
}

/**
 * Opens one chunk; any change of byte, seq, recording, final flag or key throws
 * ChunkIntegrityError. Through sodium-native (libsodium itself, ~3× the wasm
 * build's rate): the server's playback is bound by this call.
 */
export function decryptChunk(input: ChunkContext & { chunk: Uint8Array }): Uint8Array {
  const shape = inspectChunk(input.chunk);
  if (!shape.ok) throw new ChunkIntegrityError(`chunk ${input.seq} is malformed (${shape.reason})`);
  const plaintext = new Uint8Array(shape.plaintextLength);
  try {
    sodiumNative.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plaintext,
      null,
      input.chunk.subarray(1 + NONCE_BYTES),
      chunkAad(input.recordingId, input.seq, input.final),
      input.chunk.subarray(1, 1 + NONCE_BYTES),
      input.contentKey,
    );
  } catch {
    throw new ChunkIntegrityError(`chunk ${input.seq} does not authenticate`);
  }
  return plaintext;
}

export type ChunkShape = { ok: true; plaintextLength: number } | { ok: false; reason: 'bad_version' | 'too_short' };

/** The server's structural check, without keys. */
export function inspectChunk(bytes: Uint8Array): ChunkShape {
  if (bytes.length < CHUNK_OVERHEAD) return { ok: false, reason: 'too_short' };
  if (bytes[0] !== CHUNK_VERSION) return { ok: false, reason: 'bad_version' };
  return { ok: true, plaintextLength: plaintextLength(bytes.length) };
}

export function plaintextLength(chunkLength: number): number {
  return chunkLength - CHUNK_OVERHEAD;
}
