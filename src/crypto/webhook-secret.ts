import type { Keyring } from './keyring.js';
import { getSodium } from './sodium.js';

/**
 * @module
 * Webhook signing secrets at rest. Standard Webhooks signs with HMAC, so the
 * vault must be able to read the secret back: it is kept encrypted under the
 * current KEK (XChaCha20-Poly1305, wrapped = nonce(24) || ciphertext, AAD =
 * `visit-vault/webhook-secret/v1|<endpoint id>|<KEK version>`), never in clear
 * and never as a bare hash.
 */
const aad = (endpointId: string, version: number) => `visit-vault/webhook-secret/v1|${endpointId}|${version}`;

export async function wrapWebhookSecret(
  keyring: Keyring,
  endpointId: string,
  secret: string,
): Promise<{ wrapped: Buffer; kekVersion: number }> {
  const sodium = await getSodium();
  const { version, key } = keyring.current;
  const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, aad(endpointId, version), null, nonce, key);
  return { wrapped: Buffer.concat([nonce, sealed]), kekVersion: version };
}

export class WebhookSecretError extends Error {
  override name = 'WebhookSecretError';
}

export async function unwrapWebhookSecret(
  keyring: Keyring,
  endpointId: string,
  wrapped: Uint8Array,
  kekVersion: number,
): Promise<string> {
  const sodium = await getSodium();
  const key = keyring.get(kekVersion);
  if (!key) throw new WebhookSecretError(`KEK version ${kekVersion} of webhook ${endpointId} is not configured`);
  const n = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  try {
    const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      wrapped.subarray(n),
      aad(endpointId, kekVersion),
      wrapped.subarray(0, n),
      key,
    );
    return Buffer.from(plain).toString('utf8');
  } catch {
    throw new WebhookSecretError(`the secret of webhook ${endpointId} did not authenticate`);
  }
}
