/**
 * The JSON answers the console reads, as SPEC.md describes them. Kept free of
 * server imports so the browser bundle stays small; test/browser/console.test.ts
 * checks at compile time that the server's views still fit these shapes.
 */
export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'revoked';
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
  sealedAt: string | null;
  retainUntil: string | null;
  /** absent for a beautician's own listing; the console's users always get it */
  holds?: Hold[];
}

export interface OrderRecordings {
  orderId: string;
  recordings: RecordingMetadata[];
}

export interface Decision {
  deciderId: string;
  decision: 'approve' | 'reject';
  countedAs: 'department_head' | 'security_head';
  comment: string;
  decidedAt: string;
}

export interface AccessRequest {
  id: string;
  orderId: string;
  requesterId: string;
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
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  treeSize: number;
  rootHash: string;
  firstBrokenId?: string;
  reason?: string;
}
