import type { LogKey } from '../crypto/log-key.js';
import { verifyEd25519 } from '../crypto/log-key.js';
import { fromBase64Url, toBase64Url } from '../crypto/sodium.js';
import { canonicalBytes } from '../json.js';

/**
 * @module
 * Shred receipts (SPEC Crypto): each destroyed epoch key is recorded in the
 * audit log with the log key's Ed25519 signature, base64url, over the RFC 8785
 * canonical JSON of { "v": "visit-vault/shred/v1", epoch, orders, destroyedAt }.
 * Anyone holding the log's public key checks a receipt offline.
 *
 * `epoch` is the epoch's start (ISO 8601); for a legal hold's own key it is
 * "hold:<hold id>", which no ISO time can be mistaken for.
 */
export const SHRED_RECEIPT_V = 'visit-vault/shred/v1';

export interface ShredReceipt {
  epoch: string;
  /** the order ids whose keys were ever wrapped under this epoch key */
  orders: string[];
  destroyedAt: string;
  /** base64url Ed25519 signature by the log key */
  signature: string;
}

const signedBytes = (r: Omit<ShredReceipt, 'signature'>) =>
  canonicalBytes({ v: SHRED_RECEIPT_V, epoch: r.epoch, orders: r.orders, destroyedAt: r.destroyedAt });

export function signShredReceipt(logKey: LogKey, body: Omit<ShredReceipt, 'signature'>): ShredReceipt {
  return { ...body, signature: toBase64Url(logKey.sign(signedBytes(body))) };
}

export async function verifyShredReceipt(publicKey: Uint8Array, receipt: ShredReceipt): Promise<boolean> {
  const signature = fromBase64Url(receipt.signature);
  return signature !== null && verifyEd25519(signature, signedBytes(receipt), publicKey);
}
