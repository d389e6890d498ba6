import type { UploadReceipt } from '../crypto/receipt.js';
import type { AccessRequestView } from '../domain/access-requests.js';
import type { AuditLeaf } from './audit-log.js';

/**
 * @module
 * The evidence bundle (SPEC "Evidence export"): everything a court or an
 * auditor needs to check one order offline with only the log's public key.
 * Built by src/domain/evidence.ts, checked by src/audit/evidence-verify.ts.
 */
export const EVIDENCE_VERSION = 'visit-vault/evidence/v1';

export interface EvidenceEntry {
  /** the entry's leaf index in the tree */
  index: number;
  entry: AuditLeaf;
  /** RFC 9162 inclusion proof (hex) to the bundle's checkpoint */
  inclusion: string[];
}

export interface EvidenceRecording {
  recordingId: string;
  status: string;
  /** every stored chunk: seq, ciphertext size, SHA-256 of the ciphertext (hex) */
  chunks: { seq: number; size: number; sha256: string }[];
  /** RFC 9162 root over the chunks (as the receipt's chunksRoot), hex */
  chunksRoot: string;
  receipt: UploadReceipt | null;
}

export interface EvidenceBundle {
  v: typeof EVIDENCE_VERSION;
  orderId: string;
  exportedAt: string;
  /** the signed checkpoint (C2SP tlog-checkpoint note) every inclusion proof leads to */
  checkpoint: string;
  entries: EvidenceEntry[];
  /** the `principal.signing_key_set` entries of every head who signed a decision, proven like `entries` */
  signingKeys: EvidenceEntry[];
  recordings: EvidenceRecording[];
  accessRequests: AccessRequestView[];
}
