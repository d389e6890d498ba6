import { KeyIntegrityError, KeyUnavailableError } from './errors.js';
import type { Keyring } from './keyring.js';
import { sodiumReady } from './sodium.js';

/**
 * Per-order X25519 key pair. The public key goes to the phone; the secret key
 * is stored only wrapped by an epoch key (src/crypto/epoch-keys.ts).
 *
 * Orders registered before epoch keys existed had their secret key wrapped by
 * a KEK directly (XChaCha20-Poly1305, AAD binds order id and KEK version:
 * wrapped = nonce(24) || ciphertext). The functions below that take a Keyring
 * read those wraps, so that the start-up migration can move them into epochs
 * (src/domain/order-key-epochs.ts); nothing new is wrapped this way.
 */
export const SEALED_CONTENT_KEY_BYTES = 32 + 48; // content key + crypto_box_SEALBYTES

export interface WrappedOrderKey {
  orderId: string;
  kekVersion: number;
  wrappedSecretKey: Uint8Array;
}

const wrapAad = (orderId: string, kekVersion: number) =>
  new TextEncoder().encode(`visit-vault/order-key/v1|${orderId}|${kekVersion}`);

/** Wraps a secret key under the keyring's current KEK. `nonce` is for known-answer tests only. */
export function wrapSecretKey(
  keyring: Keyring,
  orderId: string,
  secretKey: Uint8Array,
  nonce?: Uint8Array,
): { wrappedSecretKey: Uint8Array; kekVersion: number } {
  const sodium = sodiumReady();
  const { version, key } = keyring.current;
  const n = nonce ?? sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secretKey, wrapAad(orderId, version), null, n, key);
  const wrapped = new Uint8Array(n.length + ct.length);
  wrapped.set(n, 0);
  wrapped.set(ct, n.length);
  return { wrappedSecretKey: wrapped, kekVersion: version };
}

/** A fresh order key pair. The caller must sodium.memzero the secret key when done. */
export function newOrderKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const pair = sodiumReady().crypto_box_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

/** A key pair wrapped the pre-epoch way (KEK directly): for tests and benchmarks of old data only. */
export function createOrderKeys(
  keyring: Keyring,
  orderId: string,
): { publicKey: Uint8Array; wrappedSecretKey: Uint8Array; kekVersion: number } {
  const sodium = sodiumReady();
  const pair = sodium.crypto_box_keypair();
  try {
    return { publicKey: pair.publicKey, ...wrapSecretKey(keyring, orderId, pair.privateKey) };
  } finally {
    sodium.memzero(pair.privateKey);
  }
}

/** The order's secret key. The caller must sodium.memzero it when done. */
export function unwrapOrderSecretKey(keyring: Keyring, w: WrappedOrderKey): Uint8Array {
  const sodium = sodiumReady();
  const kek = keyring.get(w.kekVersion);
  if (!kek) throw new KeyUnavailableError(w.kekVersion);
  const nonceBytes = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (w.wrappedSecretKey.length <= nonceBytes) throw new KeyIntegrityError('wrapped order key is truncated');
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      w.wrappedSecretKey.subarray(nonceBytes),
      wrapAad(w.orderId, w.kekVersion),
      w.wrappedSecretKey.subarray(0, nonceBytes),
      kek,
    );
  } catch {
    throw new KeyIntegrityError('wrapped order key does not authenticate');
  }
}

/** The recording's content key, opened with the order key pair. The caller must memzero it. */
export function openSealedContentKey(input: {
  sealedContentKey: Uint8Array;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}): Uint8Array {
  try {
    return sodiumReady().crypto_box_seal_open(input.sealedContentKey, input.publicKey, input.secretKey);
  } catch {
    throw new KeyIntegrityError('sealed content key does not open with this order key');
  }
}
