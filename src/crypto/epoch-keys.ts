import { KeyIntegrityError, KeyUnavailableError } from './errors.js';
import type { Keyring } from './keyring.js';
import { sodiumReady } from './sodium.js';

/**
 * @module
 * Epoch keys (SPEC Crypto): 32 random bytes per epoch, wrapped by a KEK and
 * kept only outside the database. An epoch key in turn wraps the X25519
 * secret keys of the orders whose retention ends in its epoch. Destroying
 * the one stored copy of an epoch key makes every copy of those wrapped
 * order keys useless, including the copies inside database backups.
 *
 * Both wraps are XChaCha20-Poly1305-IETF, stored as nonce(24) || ciphertext:
 *   epoch key under a KEK:        AAD = "visit-vault/epoch-key/v1|<epoch id>|<KEK version>"
 *   order key under an epoch key: AAD = "visit-vault/order-key/v2|<order id>|<epoch id>"
 * so a wrapped key moved to another epoch, order or KEK version does not open.
 */
export const EPOCH_KEY_BYTES = 32;

/** An epoch key as stored outside the database: wrapped by one KEK version. */
export interface WrappedEpochKey {
  epoch: string;
  kekVersion: number;
  wrappedKey: Uint8Array;
}

const encoder = new TextEncoder();
const epochKeyAad = (epoch: string, kekVersion: number) =>
  encoder.encode(`visit-vault/epoch-key/v1|${epoch}|${kekVersion}`);
const orderKeyAad = (orderId: string, epoch: string) => encoder.encode(`visit-vault/order-key/v2|${orderId}|${epoch}`);

function seal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, nonce?: Uint8Array): Uint8Array {
  const sodium = sodiumReady();
  const n = nonce ?? sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, null, n, key);
  const out = new Uint8Array(n.length + ct.length);
  out.set(n, 0);
  out.set(ct, n.length);
  return out;
}

function open(key: Uint8Array, aad: Uint8Array, wrapped: Uint8Array, what: string): Uint8Array {
  const sodium = sodiumReady();
  const nonceBytes = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (wrapped.length <= nonceBytes) throw new KeyIntegrityError(`${what} is truncated`);
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      wrapped.subarray(nonceBytes),
      aad,
      wrapped.subarray(0, nonceBytes),
      key,
    );
  } catch {
    throw new KeyIntegrityError(`${what} does not authenticate`);
  }
}

/** A fresh epoch key. The caller must sodium.memzero it when done. */
export function generateEpochKey(): Uint8Array {
  return sodiumReady().randombytes_buf(EPOCH_KEY_BYTES);
}

/** Wraps an epoch key under the keyring's current KEK. `nonce` is for known-answer tests only. */
export function wrapEpochKey(keyring: Keyring, epoch: string, key: Uint8Array, nonce?: Uint8Array): WrappedEpochKey {
  const { version, key: kek } = keyring.current;
  return { epoch, kekVersion: version, wrappedKey: seal(kek, epochKeyAad(epoch, version), key, nonce) };
}

/** The epoch key. The caller must sodium.memzero it when done. */
export function unwrapEpochKey(keyring: Keyring, w: WrappedEpochKey): Uint8Array {
  const kek = keyring.get(w.kekVersion);
  if (!kek) throw new KeyUnavailableError(w.kekVersion);
  return open(kek, epochKeyAad(w.epoch, w.kekVersion), w.wrappedKey, 'wrapped epoch key');
}

/** KEK rotation: the same epoch key under the current KEK, without leaving it unwiped. */
export function rewrapEpochKey(keyring: Keyring, w: WrappedEpochKey): WrappedEpochKey {
  const key = unwrapEpochKey(keyring, w);
  try {
    return wrapEpochKey(keyring, w.epoch, key);
  } finally {
    sodiumReady().memzero(key);
  }
}

/** An order's X25519 secret key wrapped under an epoch key. `nonce` is for known-answer tests only. */
export function wrapOrderKeyUnderEpoch(
  epoch: { id: string; key: Uint8Array },
  orderId: string,
  secretKey: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  return seal(epoch.key, orderKeyAad(orderId, epoch.id), secretKey, nonce);
}

/** The order's secret key. The caller must sodium.memzero it when done. */
export function unwrapOrderKeyUnderEpoch(
  epoch: { id: string; key: Uint8Array },
  orderId: string,
  wrapped: Uint8Array,
): Uint8Array {
  return open(epoch.key, orderKeyAad(orderId, epoch.id), wrapped, 'wrapped order key');
}
