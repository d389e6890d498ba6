import { canonicalBytes } from '../json.js';
import { type LogKey, verifyEd25519 } from './log-key.js';
import { leafHash, rootOfLeaves } from './merkle.js';
import { fromBase64Url, toBase64Url } from './sodium.js';

/**
 * @module
 * Upload receipts (SPEC "Upload integrity and receipts"): the vault's signed
 * statement that it holds exactly these chunks of a recording. Shared by the
 * vault, which signs one at `complete`, and the phone client, which checks it
 * before deleting its copy; both build the signed bytes here, so they cannot
 * drift apart.
 *
 *   chunksRoot = RFC 9162 Merkle tree hash, leaf i = SHA-256(0x00 || SHA-256(ciphertext of chunk i)), seq order
 *   signature  = Ed25519(log key, RFC 8785 canonical JSON of
 *                { "v": "visit-vault/receipt/v1", recordingId, chunkCount, chunksRoot, sealedAt, retainUntil })
 */
export const RECEIPT_VERSION = 'visit-vault/receipt/v1';

export interface UploadReceipt {
  recordingId: string;
  chunkCount: number;
  /** lowercase hex, 32 bytes */
  chunksRoot: string;
  /** ISO 8601 */
  sealedAt: string;
  /** ISO 8601 */
  retainUntil: string;
  /** base64url without padding, 64 bytes */
  signature: string;
}

export type ReceiptBody = Omit<UploadReceipt, 'signature'>;

/** The Merkle root (hex) over chunk SHA-256s (hex, in seq order). */
export function chunksRoot(sha256Hex: readonly string[]): string {
  return rootOfLeaves(sha256Hex.map((h) => leafHash(Buffer.from(h, 'hex')))).toString('hex');
}

/** Exactly the bytes the log key signs. */
export function receiptMessage(body: ReceiptBody): Buffer {
  return canonicalBytes({
    v: RECEIPT_VERSION,
    recordingId: body.recordingId,
    chunkCount: body.chunkCount,
    chunksRoot: body.chunksRoot,
    sealedAt: body.sealedAt,
    retainUntil: body.retainUntil,
  });
}

export function signReceipt(logKey: Pick<LogKey, 'sign'>, body: ReceiptBody): UploadReceipt {
  return { ...body, signature: toBase64Url(logKey.sign(receiptMessage(body))) };
}

/** True when the signature is the given log key's over this receipt's fields; false for anything malformed. */
export async function receiptSignatureValid(receipt: UploadReceipt, logPublicKey: Uint8Array): Promise<boolean> {
  const signature = fromBase64Url(receipt.signature);
  if (!signature) return false;
  return verifyEd25519(signature, receiptMessage(receipt), logPublicKey);
}
