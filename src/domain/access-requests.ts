import { appendAudit } from '../audit/audit-log.js';
import { decisionSignatureValid, requestDigest, type SignedDecision } from '../crypto/decision-signature.js';
import { addMs } from '../durations.js';
import { badRequest, conflict, forbidden, gone, isVaultError, notFound, type VaultError } from '../errors.js';
import type { AccessDecisionRecord, AccessRequestRecord, RequestOrder } from '../store/db/access-requests.js';
import * as repo from '../store/db/access-requests.js';
import type { Queryable } from '../store/db/database.js';
import * as orders from '../store/db/orders.js';
import * as principals from '../store/db/principals.js';
import { orderRetention } from '../store/db/retention.js';
import type { DomainDeps } from './deps.js';
import { hasRole, type Principal } from './principal.js';
import { effectiveStatus, eligibleSignOffs, isPastExpiry, planDecision } from './sign-off.js';
import { type Decision, type Purpose, type RequestStatus, SIGN_OFFS, type SignOff } from './vocabulary.js';
import { emitEvent, emitEventOnce } from './webhooks.js';

/**
 * Access requests (SPEC steps 5-7): a dispute officer files one for an order;
 * a department head and a security head sign it off. Every decision runs in one
 * transaction holding the request's row lock, so concurrent deciders queue and
 * each sees the decisions before it: exactly one of them moves it to approved.
 */
export interface DecisionView {
  deciderId: string;
  decision: Decision;
  countedAs: SignOff;
  comment: string;
  decidedAt: string;
  /** Ed25519 (base64url) over the decision message (src/crypto/decision-signature.ts); absent only when unsigned */
  signature?: string;
  signerKeyId?: string;
  /** the key the signature verified against when it was given, so an offline verifier needs nothing else */
  signerPublicKey?: string;
}

export interface AccessRequestView {
  id: string;
  orderId: string;
  requesterId: string;
  purpose: Purpose;
  reason: string;
  ticketRef: string;
  status: RequestStatus;
  createdAt: string;
  expiresAt: string;
  /** SHA-256 (hex) of the request's canonical JSON; every signed sign-off names it */
  digest: string;
  decisions: DecisionView[];
  approvedAt?: string;
  grantExpiresAt?: string;
  /** a security head ended the grant (status `revoked`) */
  revokedAt?: string;
  revokedBy?: string;
  revokeReason?: string;
}

export function toView(
  r: AccessRequestRecord,
  decisions: readonly AccessDecisionRecord[],
  now: Date,
): AccessRequestView {
  const view: AccessRequestView = {
    id: r.id,
    orderId: r.orderId,
    requesterId: r.requesterId,
    purpose: r.purpose,
    reason: r.reason,
    ticketRef: r.ticketRef,
    status: effectiveStatus(r, now),
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    digest: digestOf(r),
    decisions: decisions.filter((d) => d.requestId === r.id).map(decisionView),
  };
  if (r.status === 'approved' && r.decidedAt && r.grantExpiresAt) {
    view.approvedAt = r.decidedAt.toISOString();
    view.grantExpiresAt = r.grantExpiresAt.toISOString();
  }
  if (r.status === 'revoked' && r.decidedAt && r.revokedAt && r.revokedBy) {
    view.approvedAt = r.decidedAt.toISOString();
    view.revokedAt = r.revokedAt.toISOString();
    view.revokedBy = r.revokedBy;
    view.revokeReason = r.revokeReason ?? '';
  }
  return view;
}

function decisionView(d: AccessDecisionRecord): DecisionView {
  return {
    deciderId: d.deciderId,
    decision: d.decision,
    countedAs: d.countedAs,
    comment: d.comment,
    decidedAt: d.decidedAt.toISOString(),
    ...(d.signature ? { signature: d.signature } : {}),
    ...(d.signerKeyId ? { signerKeyId: d.signerKeyId } : {}),
    ...(d.signerPublicKey ? { signerPublicKey: d.signerPublicKey } : {}),
  };
}

/** SPEC step 5: the digest sign-offs are bound to; `filedAt` is the request's createdAt. */
export function digestOf(
  r: Pick<
    AccessRequestRecord,
    'id' | 'orderId' | 'purpose' | 'reason' | 'ticketRef' | 'requesterId' | 'createdAt' | 'expiresAt'
  >,
): string {
  return requestDigest({
    id: r.id,
    orderId: r.orderId,
    purpose: r.purpose,
    reason: r.reason,
    ticketRef: r.ticketRef,
    requesterId: r.requesterId,
    filedAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
  });
}

export interface FileRequestInput {
  orderId: string;
  purpose: Purpose;
  reason: string;
  ticketRef: string;
}

export async function fileRequest(
  deps: DomainDeps,
  actor: Principal,
  input: FileRequestInput,
): Promise<AccessRequestView> {
  if (!hasRole(actor, 'dispute_staff')) throw forbidden('only dispute_staff files access requests', 'wrong_role');
  const at = deps.clock.now();
  const record = {
    id: deps.ids.newId('req'),
    orderId: input.orderId,
    requesterId: actor.id,
    requesterDepartment: actor.department,
    purpose: input.purpose,
    reason: input.reason,
    ticketRef: input.ticketRef,
    createdAt: at,
    expiresAt: addMs(at, deps.config.requestTtlMs),
  };
  await deps.db.transaction(async (tx) => {
    const order = await orders.findOrder(tx, input.orderId);
    if (!order) throw notFound('order');
    if (order.shreddedAt)
      throw gone('order_shredded', "this order's recordings were destroyed at the end of retention");
    // Expired by time is expired, swept or not (SPEC step 8): nothing of it may be asked for any more.
    const kept = await orderRetention(tx, input.orderId, at);
    if (kept.hasRecordings && !kept.hasLive)
      throw gone('recording_expired', "this order's recordings have passed their retention and are expired");
    await repo.insertRequest(tx, record);
    const signers = await signersAt(tx, record);
    await repo.insertSigners(tx, record.id, signers);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'access_request.filed',
      outcome: 'ok',
      orderId: input.orderId,
      details: {
        requestId: record.id,
        purpose: input.purpose,
        reason: input.reason,
        ticketRef: input.ticketRef,
        department: actor.department,
        expiresAt: record.expiresAt.toISOString(),
        signers: Object.fromEntries(signers),
      },
    });
    await emitEvent(tx, deps, at, 'access_request.filed', {
      requestId: record.id,
      orderId: record.orderId,
      requesterId: record.requesterId,
      department: record.requesterDepartment,
      purpose: record.purpose,
      status: 'pending',
      filedAt: at.toISOString(),
      expiresAt: record.expiresAt.toISOString(),
      signers: [...signers].map(([principalId, roles]) => ({ principalId, roles: [...roles] })),
    });
  });
  return toView(
    {
      ...record,
      status: 'pending',
      decidedAt: null,
      grantExpiresAt: null,
      revokedAt: null,
      revokedBy: null,
      revokeReason: null,
    },
    [],
    at,
  );
}

/**
 * Who may sign a request filed now (SPEC step 6): the active heads of the
 * requester's department and the active security heads, never the requester.
 * Stored with the request, so a role granted later does not count for it.
 */
async function signersAt(
  tx: Queryable,
  r: { requesterId: string; requesterDepartment: string },
): Promise<Map<string, SignOff[]>> {
  const out = new Map<string, SignOff[]>();
  for (const p of await principals.activeWithRoles(tx, SIGN_OFFS)) {
    if (p.id === r.requesterId) continue;
    const offs = eligibleSignOffs(p, r);
    if (offs.length > 0) out.set(p.id, offs);
  }
  return out;
}

/** Who sees which requests: auditors and security heads all, department heads their department's, staff their own. */
type Scope = { all: true } | { all: false; requesterId?: string; department?: string };

function scopeOf(actor: Principal): Scope {
  if (hasRole(actor, 'auditor', 'security_head')) return { all: true };
  const scope: Scope = { all: false };
  if (hasRole(actor, 'dispute_staff')) scope.requesterId = actor.id;
  if (hasRole(actor, 'department_head')) scope.department = actor.department;
  if (scope.requesterId === undefined && scope.department === undefined) {
    throw forbidden('reading access requests needs dispute_staff, a manager role or auditor', 'wrong_role');
  }
  return scope;
}

function canSee(scope: Scope, r: AccessRequestRecord): boolean {
  return scope.all || r.requesterId === scope.requesterId || r.requesterDepartment === scope.department;
}

async function markExpired(tx: Queryable, at: Date, id?: string): Promise<number> {
  const expired = await repo.expirePending(tx, at, id);
  for (const r of expired) {
    await appendAudit(tx, at, {
      actorId: null,
      action: 'access_request.expired',
      outcome: 'ok',
      orderId: r.orderId,
      details: { requestId: r.id, expiresAt: r.expiresAt.toISOString() },
    });
  }
  return expired.length;
}

/** Marks every pending request past its expiry as expired, audited; the retention sweeper calls this. */
export async function expireStaleRequests(deps: Pick<DomainDeps, 'db' | 'clock'>): Promise<number> {
  const at = deps.clock.now();
  return deps.db.transaction((tx) => markExpired(tx, at));
}

/** How long before a pending request expires its approvers are warned (SPEC "Notifications"). */
export const EXPIRING_WARNING_MS = 12 * 3_600_000;

/**
 * Sends access_request.expiring for each pending request now within 12 hours
 * of its expiry, once per request (a webhook_once row decides, even with
 * several sweepers); the retention sweeper calls this every pass. Returns how
 * many were sent.
 */
export async function warnExpiringRequests(deps: Pick<DomainDeps, 'db' | 'clock' | 'ids'>): Promise<number> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    let sent = 0;
    for (const r of await repo.pendingExpiringUnwarned(tx, at, addMs(at, EXPIRING_WARNING_MS), 500)) {
      const signers = await repo.findSigners(tx, r.id);
      const data = {
        requestId: r.id,
        orderId: r.orderId,
        requesterId: r.requesterId,
        department: r.requesterDepartment,
        purpose: r.purpose,
        status: 'pending',
        filedAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
        signers: signers ? [...signers].map(([principalId, roles]) => ({ principalId, roles: [...roles] })) : null,
      };
      if (await emitEventOnce(tx, deps, at, 'access_request.expiring', r.id, data)) sent++;
    }
    return sent;
  });
}

export interface ListFilter {
  orderId?: string;
  status?: RequestStatus;
  /** `me`: only the pending requests the caller may still sign (not its own, not decided by it, a slot open) */
  awaiting?: 'me';
  /** `newest` first (the default) or `deadline`: the nearest expiry first */
  sort?: RequestOrder;
  /** the id of the last request of the previous page */
  after?: string;
  limit?: number;
}

export interface AccessRequestPage {
  requests: AccessRequestView[];
  /** pass as `after` for the next page; null on the last */
  nextAfter: string | null;
  /** how many requests match the filter over all pages */
  total: number;
}

export async function listRequestsFor(
  deps: DomainDeps,
  actor: Principal,
  filter: ListFilter,
): Promise<AccessRequestPage> {
  const scope = scopeOf(actor);
  await expireStaleRequests(deps);
  const at = deps.clock.now();
  const limit = filter.limit ?? 100;
  const where: repo.RequestFilter = {
    ...(scope.all ? {} : { requesterId: scope.requesterId, department: scope.department }),
    orderId: filter.orderId,
    status: filter.status,
  };
  if (filter.awaiting === 'me') {
    where.status = 'pending';
    where.awaiting = {
      principalId: actor.id,
      departmentHeadOf: hasRole(actor, 'department_head') ? actor.department : null,
      securityHead: hasRole(actor, 'security_head'),
    };
  }
  if (filter.after !== undefined && !(await repo.findRequest(deps.db, filter.after)))
    throw badRequest('after', 'names no access request');
  // One more than the page tells whether another page follows.
  const records = await repo.listRequests(deps.db, where, {
    order: filter.sort ?? 'newest',
    after: filter.after,
    limit: limit + 1,
  });
  const shown = records.slice(0, limit);
  const decisions = await repo.listDecisions(
    deps.db,
    shown.map((r) => r.id),
  );
  return {
    requests: shown.map((r) => toView(r, decisions, at)),
    nextAfter: records.length > limit ? (shown.at(-1)?.id ?? null) : null,
    total: await repo.countRequests(deps.db, where),
  };
}

export async function readRequest(deps: DomainDeps, actor: Principal, id: string): Promise<AccessRequestView> {
  const scope = scopeOf(actor);
  const at = deps.clock.now();
  let record = await repo.findRequest(deps.db, id);
  if (!record) throw notFound('access request');
  if (!canSee(scope, record)) throw forbidden('this access request is not yours to read', 'not_your_request');
  if (isPastExpiry(record, at)) {
    await deps.db.transaction((tx) => markExpired(tx, at, id));
    record = { ...record, status: 'expired' };
  }
  return toView(record, await repo.listDecisions(deps.db, [id]), at);
}

export interface DecideInput {
  decision: Decision;
  comment: string;
  /** Ed25519 by the decider's registered key over the decision message, base64url */
  signature?: string;
}

type SignatureCheck =
  | { ok: true; signature: string | null; signerKeyId: string | null; signerPublicKey: string | null }
  | { ok: false; refusal: VaultError; signerKeyId: string | null };

/**
 * SPEC "Signed sign-offs": the signature must verify against the decider's
 * registered key over exactly this request's digest, this decision and this
 * comment. A signature given is always checked; none at all is accepted only
 * with VAULT_REQUIRE_SIGNED_DECISIONS=false.
 */
async function checkSignature(
  deps: DomainDeps,
  tx: Queryable,
  signed: SignedDecision,
  signature: string | undefined,
): Promise<SignatureCheck> {
  // FOR SHARE: an admin clearing the key waits until this decision is committed or refused.
  const key = await principals.findSigningKey(tx, signed.signerId, { forShare: true });
  if (signature === undefined) {
    if (!deps.config.requireSignedDecisions)
      return { ok: true, signature: null, signerKeyId: null, signerPublicKey: null };
    const hint = key ? '' : '; register a key first (PUT /v1/me/signing-key)';
    return {
      ok: false,
      refusal: badRequest('signature', `this vault accepts only signed decisions${hint}`, 'signature_required'),
      signerKeyId: key?.keyId ?? null,
    };
  }
  if (!key) {
    return {
      ok: false,
      refusal: badRequest(
        'signature',
        'you have no signing key registered to verify this signature against (PUT /v1/me/signing-key)',
        'bad_signature',
      ),
      signerKeyId: null,
    };
  }
  if (!(await decisionSignatureValid(signed, signature, key.publicKey))) {
    return {
      ok: false,
      refusal: badRequest(
        'signature',
        `the signature does not verify against your signing key ${key.keyId} over this request's digest, decision and comment`,
        'bad_signature',
      ),
      signerKeyId: key.keyId,
    };
  }
  return { ok: true, signature, signerKeyId: key.keyId, signerPublicKey: key.publicKey };
}

export async function decideRequest(
  deps: DomainDeps,
  actor: Principal,
  id: string,
  input: DecideInput,
): Promise<AccessRequestView> {
  const at = deps.clock.now();
  const result = await deps.db.transaction(
    async (tx): Promise<{ view: AccessRequestView } | { refusal: VaultError }> => {
      const request = await repo.findRequest(tx, id, { forUpdate: true });
      if (!request) throw notFound('access request');
      const decisions = await repo.listDecisions(tx, [id]);
      // A signer revoked before approval no longer counts: the request waits for another (SPEC step 6).
      const revoked = await principals.revokedAmong(
        tx,
        decisions.map((d) => d.deciderId),
      );
      const facts = {
        ...request,
        signers: (await repo.findSigners(tx, id)) ?? undefined,
      };
      const counted = decisions.map((d) => ({ ...d, counts: !revoked.has(d.deciderId) }));
      let plan: ReturnType<typeof planDecision>;
      try {
        plan = planDecision(facts, counted, actor, input.decision, at);
      } catch (e) {
        // An expired request is marked so before the refusal, and that mark must commit.
        if (isVaultError(e) && e.code === 'request_expired' && request.status === 'pending') {
          await markExpired(tx, at, id);
          return { refusal: e };
        }
        throw e;
      }
      const requestDigest = digestOf(request);
      const signed = {
        requestId: id,
        requestDigest,
        decision: input.decision,
        comment: input.comment,
        signerId: actor.id,
      };
      const verdict = await checkSignature(deps, tx, signed, input.signature);
      if (!verdict.ok) {
        // Nothing of the decision is written; only the refusal, which commits.
        await appendAudit(tx, at, {
          actorId: actor.id,
          action: 'access_request.decision_refused',
          outcome: 'refused',
          orderId: request.orderId,
          details: {
            requestId: id,
            requestDigest,
            decision: input.decision,
            code: verdict.refusal.code,
            signed: input.signature !== undefined,
            signerKeyId: verdict.signerKeyId,
          },
        });
        return { refusal: verdict.refusal };
      }
      const decision: AccessDecisionRecord = {
        requestId: id,
        deciderId: actor.id,
        decision: input.decision,
        countedAs: plan.countedAs,
        comment: input.comment,
        decidedAt: at,
        signature: verdict.signature,
        signerKeyId: verdict.signerKeyId,
        signerPublicKey: verdict.signerPublicKey,
      };
      await repo.insertDecision(tx, decision);
      let settled = request;
      if (plan.outcome !== 'pending') {
        const grantExpiresAt = plan.outcome === 'approved' ? addMs(at, deps.config.grantTtlMs) : null;
        // The row lock makes this the only writer; a false here would mean the lock did not hold.
        if (!(await repo.settleRequest(tx, id, { status: plan.outcome, decidedAt: at, grantExpiresAt }))) {
          throw new Error('access request left pending under its own row lock');
        }
        settled = { ...request, status: plan.outcome, decidedAt: at, grantExpiresAt };
      }
      await appendAudit(tx, at, {
        actorId: actor.id,
        action: 'access_request.decided',
        outcome: 'ok',
        orderId: request.orderId,
        details: {
          requestId: id,
          decision: input.decision,
          countedAs: plan.countedAs,
          comment: input.comment,
          requestDigest,
          signature: verdict.signature,
          signerKeyId: verdict.signerKeyId,
          status: plan.outcome,
          ...(settled.grantExpiresAt ? { grantExpiresAt: settled.grantExpiresAt.toISOString() } : {}),
        },
      });
      await emitEvent(tx, deps, at, 'access_request.decided', {
        requestId: id,
        orderId: request.orderId,
        deciderId: actor.id,
        decision: input.decision,
        countedAs: plan.countedAs,
        purpose: request.purpose,
        status: plan.outcome,
        decidedAt: at.toISOString(),
        grantExpiresAt: settled.grantExpiresAt?.toISOString() ?? null,
      });
      return { view: toView(settled, [...decisions, decision], at) };
    },
  );
  if ('refusal' in result) throw result.refusal;
  return result.view;
}

/**
 * A security head ends a live grant at once (SPEC step 7): the request becomes
 * `revoked` and its audio answers 410 from then on. Under the request's row
 * lock, so a revocation and a playback start are ordered.
 */
export async function revokeRequest(
  deps: DomainDeps,
  actor: Principal,
  id: string,
  input: { reason: string },
): Promise<AccessRequestView> {
  if (!hasRole(actor, 'security_head')) throw forbidden('only a security_head ends a grant', 'wrong_role');
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const request = await repo.findRequest(tx, id, { forUpdate: true });
    if (!request) throw notFound('access request');
    const status = effectiveStatus(request, at);
    if (status !== 'approved')
      throw conflict(`request_${status}`, `this access request is ${status}; only a live grant can be revoked`);
    if (!request.grantExpiresAt || at.getTime() >= request.grantExpiresAt.getTime())
      throw gone('grant_expired', 'this grant has already run out');
    if (!(await repo.revokeGrant(tx, id, { at, by: actor.id, reason: input.reason })))
      throw new Error('approved access request not revoked under its own row lock');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'access_request.revoked',
      outcome: 'ok',
      orderId: request.orderId,
      details: { requestId: id, reason: input.reason, grantExpiresAt: request.grantExpiresAt.toISOString() },
    });
    await emitEvent(tx, deps, at, 'grant.ended', {
      requestId: id,
      orderId: request.orderId,
      requesterId: request.requesterId,
      purpose: request.purpose,
      status: 'revoked',
      endedAt: at.toISOString(),
      endedBy: actor.id,
    });
    const revoked = {
      ...request,
      status: 'revoked' as const,
      revokedAt: at,
      revokedBy: actor.id,
      revokeReason: input.reason,
    };
    return toView(revoked, await repo.listDecisions(tx, [id]), at);
  });
}
