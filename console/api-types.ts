/**
 * The JSON answers the console reads, as SPEC.md describes them. Kept free of
 * server imports so the browser bundle stays small; test/browser/console.test.ts
 * checks at compile time that the server's views still fit these shapes.
 */
export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'revoked';
export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'rejected', 'expired', 'revoked'];
export type Role =
  | 'platform'
  | 'beautician'
  | 'dispute_staff'
  | 'department_head'
  | 'security_head'
  | 'auditor'
  | 'admin';

/** GET /v1/me: who this token is. */
export interface Me {
  id: string;
  name: string;
  department: string;
  roles: Role[];
  signingKeyId?: string;
}
export type Purpose = 'dispute' | 'safety' | 'compliance_check' | 'legal_request';
export const PURPOSES: readonly Purpose[] = ['dispute', 'safety', 'compliance_check', 'legal_request'];

export interface Hold {
  id: string;
  reason: string;
  until: string | null;
  placedBy: string;
  placedAt: string;
}

export interface RecordingMetadata {
  recordingId: string;
  orderId: string;
  status: 'recording' | 'sealed' | 'incomplete' | 'expired';
  mimeType: string;
  chunkCount: number | null;
  storedChunks: number;
  storedBytes: number;
  createdAt: string;
  lastChunkAt: string | null;
  sealedAt: string | null;
  retainUntil: string | null;
  expiredAt: string | null;
  /** absent for a beautician's own listing; the console's users always get it */
  holds?: Hold[];
}

export interface OrderRecordings {
  orderId: string;
  recordings: RecordingMetadata[];
}

export interface Decision {
  deciderId: string;
  deciderName?: string;
  decision: 'approve' | 'reject';
  countedAs: 'department_head' | 'security_head';
  comment: string;
  decidedAt: string;
  /** Ed25519 signature by the decider's registered key (absent only where the vault does not require one) */
  signature?: string;
  signerKeyId?: string;
}

export interface AccessRequest {
  id: string;
  orderId: string;
  requesterId: string;
  requesterName?: string;
  /** SHA-256 hex of the request's canonical JSON: what a sign-off signs */
  digest?: string;
  purpose: Purpose;
  reason: string;
  ticketRef: string;
  status: RequestStatus;
  createdAt: string;
  expiresAt: string;
  decisions: Decision[];
  approvedAt?: string;
  grantExpiresAt?: string;
}

export interface AccessRequestList {
  requests: AccessRequest[];
  nextAfter: string | null;
  total: number;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  outcome: 'ok' | 'refused' | 'failed';
  orderId: string | null;
  recordingId: string | null;
  details: Record<string, unknown>;
  /** the entry's place in the transparency log; null until sequenced */
  index: number | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextAfter: string | null;
  /** display names of the page's actors, by id */
  names: Record<string, string>;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  treeSize: number;
  rootHash: string;
  firstBrokenId?: string;
  reason?: string;
}
