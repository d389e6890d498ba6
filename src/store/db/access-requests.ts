import type { Decision, Purpose, RequestStatus, SignOff } from '../../domain/vocabulary.js';
import type { Queryable } from './database.js';

export interface AccessRequestRecord {
  id: string;
  orderId: string;
  requesterId: string;
  requesterDepartment: string;
  purpose: Purpose;
  reason: string;
  ticketRef: string;
  status: RequestStatus;
  createdAt: Date;
  expiresAt: Date;
  /** when it was approved or rejected */
  decidedAt: Date | null;
  grantExpiresAt: Date | null;
  /** set when a security head ended the grant (status `revoked`) */
  revokedAt: Date | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

export interface AccessDecisionRecord {
  requestId: string;
  deciderId: string;
  decision: Decision;
  countedAs: SignOff;
  comment: string;
  decidedAt: Date;
  /** Ed25519 signature (base64url) over the decision message; null only when signatures were not required */
  signature: string | null;
  signerKeyId: string | null;
  /** the public key (base64url) the signature verified against at the time */
  signerPublicKey: string | null;
}

type RequestRow = {
  id: string;
  order_id: string;
  requester_id: string;
  requester_department: string;
  purpose: Purpose;
  reason: string;
  ticket_ref: string;
  status: RequestStatus;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  grant_expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
};

type DecisionRow = {
  request_id: string;
  decider_id: string;
  decision: Decision;
  counted_as: SignOff;
  comment: string;
  decided_at: Date;
  signature: string | null;
  signer_key_id: string | null;
  signer_public_key: string | null;
};

const toRequest = (r: RequestRow): AccessRequestRecord => ({
  id: r.id,
  orderId: r.order_id,
  requesterId: r.requester_id,
  requesterDepartment: r.requester_department,
  purpose: r.purpose,
  reason: r.reason,
  ticketRef: r.ticket_ref,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at,
  grantExpiresAt: r.grant_expires_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  revokeReason: r.revoke_reason,
});

const toDecision = (r: DecisionRow): AccessDecisionRecord => ({
  requestId: r.request_id,
  deciderId: r.decider_id,
  decision: r.decision,
  countedAs: r.counted_as,
  comment: r.comment,
  decidedAt: r.decided_at,
  signature: r.signature,
  signerKeyId: r.signer_key_id,
  signerPublicKey: r.signer_public_key,
});

export async function insertRequest(
  q: Queryable,
  r: Omit<AccessRequestRecord, 'status' | 'decidedAt' | 'grantExpiresAt' | 'revokedAt' | 'revokedBy' | 'revokeReason'>,
): Promise<void> {
  await q.query(
    `INSERT INTO access_requests (id, order_id, requester_id, requester_department, purpose, reason, ticket_ref, status, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)`,
    [r.id, r.orderId, r.requesterId, r.requesterDepartment, r.purpose, r.reason, r.ticketRef, r.createdAt, r.expiresAt],
  );
}

/** With `forUpdate`, the row stays locked until the transaction ends: deciders of one request queue up here. */
export async function findRequest(
  q: Queryable,
  id: string,
  { forUpdate = false } = {},
): Promise<AccessRequestRecord | null> {
  const [row] = await q.query<RequestRow>(
    `SELECT * FROM access_requests WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row ? toRequest(row) : null;
}

/** Without requesterId and department: every request. With one or both: requests matching either. */
export interface RequestFilter {
  /** requests filed by this principal */
  requesterId?: string;
  /** requests filed by staff of this department */
  department?: string;
  orderId?: string;
  status?: RequestStatus;
  /** only pending requests this head may still sign: not its own, not decided by it, a slot it can fill still open */
  awaiting?: { principalId: string; departmentHeadOf: string | null; securityHead: boolean };
}

export type RequestOrder = 'newest' | 'deadline';

/**
 * The head ($5) is in the request's signer set for this sign-off, fixed at filing; a request filed
 * before signer sets were stored has none, and its heads count by their roles.
 */
const fixedSigner = (
  signOff: SignOff,
) => `(NOT EXISTS (SELECT 1 FROM access_request_signers s WHERE s.request_id = r.id)
          OR EXISTS (SELECT 1 FROM access_request_signers s
                      WHERE s.request_id = r.id AND s.principal_id = $5 AND s.sign_off = '${signOff}'))`;

/** Visibility is the domain's: it passes the scope in. Parameters $1..$7 are the filter's. */
function filterSql(f: RequestFilter): { where: string; params: unknown[] } {
  const a = f.awaiting;
  return {
    where: `(($1::text IS NULL AND $2::text IS NULL) OR r.requester_id = $1 OR r.requester_department = $2)
        AND ($3::text IS NULL OR r.order_id = $3)
        AND ($4::text IS NULL OR r.status = $4)
        AND ($5::text IS NULL OR (
          r.requester_id <> $5
          AND NOT EXISTS (SELECT 1 FROM access_decisions d WHERE d.request_id = r.id AND d.decider_id = $5)
          AND (($6::text IS NOT NULL AND r.requester_department = $6 AND ${fixedSigner('department_head')} AND NOT EXISTS (
                 SELECT 1 FROM access_decisions d WHERE d.request_id = r.id
                    AND d.decision = 'approve' AND d.counted_as = 'department_head'))
            OR ($7::boolean AND ${fixedSigner('security_head')} AND NOT EXISTS (
                 SELECT 1 FROM access_decisions d WHERE d.request_id = r.id
                    AND d.decision = 'approve' AND d.counted_as = 'security_head')))))`,
    params: [
      f.requesterId ?? null,
      f.department ?? null,
      f.orderId ?? null,
      f.status ?? null,
      a?.principalId ?? null,
      a?.departmentHeadOf ?? null,
      a?.securityHead ?? false,
    ],
  };
}

/**
 * One page of requests, newest first or nearest deadline first; `after` is the
 * id of the last request of the previous page (keyset paging, stable while
 * requests are filed). Ties on time are broken by id in the same direction.
 */
export async function listRequests(
  q: Queryable,
  f: RequestFilter,
  page: { order: RequestOrder; after?: string; limit: number },
): Promise<AccessRequestRecord[]> {
  const { where, params } = filterSql(f);
  const [key, dir, cmp] = page.order === 'newest' ? ['created_at', 'DESC', '<'] : ['expires_at', 'ASC', '>'];
  const rows = await q.query<RequestRow>(
    `SELECT r.* FROM access_requests r
      WHERE ${where}
        AND ($8::text IS NULL OR (r.${key}, r.id) ${cmp} (SELECT c.${key}, c.id FROM access_requests c WHERE c.id = $8))
      ORDER BY r.${key} ${dir}, r.id ${dir}
      LIMIT $9`,
    [...params, page.after ?? null, page.limit],
  );
  return rows.map(toRequest);
}

/** How many requests match the filter, over all pages. */
export async function countRequests(q: Queryable, f: RequestFilter): Promise<number> {
  const { where, params } = filterSql(f);
  const [row] = await q.query<{ n: string }>(`SELECT count(*) AS n FROM access_requests r WHERE ${where}`, params);
  return Number(row?.n ?? 0);
}

export async function insertDecision(q: Queryable, d: AccessDecisionRecord): Promise<void> {
  await q.query(
    `INSERT INTO access_decisions (request_id, decider_id, decision, counted_as, comment, decided_at,
                                   signature, signer_key_id, signer_public_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      d.requestId,
      d.deciderId,
      d.decision,
      d.countedAs,
      d.comment,
      d.decidedAt,
      d.signature,
      d.signerKeyId,
      d.signerPublicKey,
    ],
  );
}

export async function listDecisions(q: Queryable, requestIds: readonly string[]): Promise<AccessDecisionRecord[]> {
  if (requestIds.length === 0) return [];
  const rows = await q.query<DecisionRow>(
    'SELECT * FROM access_decisions WHERE request_id = ANY($1::text[]) ORDER BY decided_at, decider_id',
    [requestIds],
  );
  return rows.map(toDecision);
}

/** Moves a pending request to its outcome; false when it was no longer pending (the caller holds the row lock). */
export async function settleRequest(
  q: Queryable,
  id: string,
  to: { status: 'approved' | 'rejected'; decidedAt: Date; grantExpiresAt: Date | null },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE access_requests SET status = $2, decided_at = $3, grant_expires_at = $4 WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, to.status, to.decidedAt, to.grantExpiresAt],
  );
  return rows.length === 1;
}

/** Marks pending requests past their expiry as expired; one id when given, else all of them. Returns what changed. */
export async function expirePending(
  q: Queryable,
  now: Date,
  id?: string,
): Promise<{ id: string; orderId: string; expiresAt: Date }[]> {
  const rows = await q.query<{ id: string; order_id: string; expires_at: Date }>(
    `UPDATE access_requests SET status = 'expired'
      WHERE status = 'pending' AND expires_at <= $1 AND ($2::text IS NULL OR id = $2)
      RETURNING id, order_id, expires_at`,
    [now, id ?? null],
  );
  return rows.map((r) => ({ id: r.id, orderId: r.order_id, expiresAt: r.expires_at }));
}

/** Pending requests that expire within (now, before] and have not yet been warned of (SPEC "Notifications"). */
export async function pendingExpiringUnwarned(
  q: Queryable,
  now: Date,
  before: Date,
  limit: number,
): Promise<AccessRequestRecord[]> {
  const rows = await q.query<RequestRow>(
    `SELECT * FROM access_requests r
      WHERE r.status = 'pending' AND r.expires_at > $1 AND r.expires_at <= $2
        AND NOT EXISTS (SELECT 1 FROM webhook_once o WHERE o.event_type = 'access_request.expiring' AND o.subject = r.id)
      ORDER BY r.expires_at, r.id
      LIMIT $3`,
    [now, before, limit],
  );
  return rows.map(toRequest);
}

/** Who may sign this request, as fixed at filing: principal id → the sign-offs that person could give then. */
export async function insertSigners(
  q: Queryable,
  requestId: string,
  signers: ReadonlyMap<string, readonly SignOff[]>,
): Promise<void> {
  const rows = [...signers].flatMap(([principalId, offs]) => offs.map((s) => [principalId, s] as const));
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO access_request_signers (request_id, principal_id, sign_off)
     SELECT $1, p, s FROM unnest($2::text[], $3::text[]) AS t(p, s)`,
    [requestId, rows.map((r) => r[0]), rows.map((r) => r[1])],
  );
}

/** The signer set of a request; null for a request filed before signer sets were stored (it has no rows). */
export async function findSigners(q: Queryable, requestId: string): Promise<Map<string, SignOff[]> | null> {
  const rows = await q.query<{ principal_id: string; sign_off: SignOff }>(
    'SELECT principal_id, sign_off FROM access_request_signers WHERE request_id = $1 ORDER BY principal_id, sign_off',
    [requestId],
  );
  if (rows.length === 0) return null;
  const out = new Map<string, SignOff[]>();
  for (const r of rows) out.set(r.principal_id, [...(out.get(r.principal_id) ?? []), r.sign_off]);
  return out;
}

/** Ends a live grant; false when the request was not approved (the caller holds the row lock). */
export async function revokeGrant(
  q: Queryable,
  id: string,
  to: { at: Date; by: string; reason: string },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE access_requests SET status = 'revoked', revoked_at = $2, revoked_by = $3, revoke_reason = $4
      WHERE id = $1 AND status = 'approved' RETURNING id`,
    [id, to.at, to.by, to.reason],
  );
  return rows.length === 1;
}
