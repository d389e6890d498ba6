import { createHash } from 'node:crypto';
import { z } from 'zod';
import { chunksRoot, receiptSignatureValid, type UploadReceipt } from '../crypto/receipt.js';

/**
 * @module
 * The phone's check of an upload receipt, the one thing that makes deleting
 * its own copy safe: the log key (pinned in the app, never fetched from the
 * vault it is checking) signed that the vault holds, for this recording,
 * exactly the chunks the phone sent — same count, same Merkle root over the
 * ciphertexts' SHA-256s.
 */
export class ReceiptRejectedError extends Error {
  override name = 'ReceiptRejectedError';
  constructor(readonly reason: ReceiptProblem) {
    super(`the upload receipt was not accepted: ${reason}; keep the recording on the phone`);
  }
}

export type ReceiptProblem = 'malformed' | 'other_recording' | 'chunk_count' | 'chunks_root' | 'signature';

const receiptShape = z.strictObject({
  recordingId: z.string(),
  chunkCount: z.number().int().nonnegative(),
  chunksRoot: z.string().regex(/^[0-9a-f]{64}$/),
  sealedAt: z.iso.datetime(),
  retainUntil: z.iso.datetime(),
  signature: z.string(),
}) satisfies z.ZodType<UploadReceipt>;

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The receipt, typed, when it is the log key's signature over exactly what the
 * phone sent; otherwise ReceiptRejectedError naming the first problem found.
 */
export async function checkReceipt(
  receipt: unknown,
  expected: { recordingId: string; chunkSha256s: readonly string[]; logPublicKey: Uint8Array },
): Promise<UploadReceipt> {
  const parsed = receiptShape.safeParse(receipt);
  if (!parsed.success) throw new ReceiptRejectedError('malformed');
  const r = parsed.data;
  if (r.recordingId !== expected.recordingId) throw new ReceiptRejectedError('other_recording');
  if (r.chunkCount !== expected.chunkSha256s.length) throw new ReceiptRejectedError('chunk_count');
  if (r.chunksRoot !== chunksRoot(expected.chunkSha256s)) throw new ReceiptRejectedError('chunks_root');
  if (!(await receiptSignatureValid(r, expected.logPublicKey))) throw new ReceiptRejectedError('signature');
  return r;
}
