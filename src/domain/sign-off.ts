import { conflict, forbidden, gone, type VaultError } from '../errors.js';
import { hasRole, type Principal } from './principal.js';
import { type Decision, type RequestStatus, SIGN_OFFS, type SignOff } from './vocabulary.js';

/**
 * The two-manager sign-off rules (SPEC steps 5-7), pure: no clock, no store.
 * An access request needs one approval counted as `department_head` (a head of
 * the requester's department) and one counted as `security_head`, from two
 * different people, neither of them the requester. One rejection rejects.
 */

export interface RequestFacts {
  requesterId: string;
  requesterDepartment: string;
  status: RequestStatus;
  expiresAt: Date;
  /**
   * Who may sign, fixed when the request was filed (SPEC step 6): each person
   * with the sign-offs they could give then. A role granted later does not
   * count. Absent only for requests filed before signer sets were stored.
   */
  signers?: ReadonlyMap<string, readonly SignOff[]>;
}

export interface DecisionFacts {
  deciderId: string;
  decision: Decision;
  countedAs: SignOff;
  /** false once the decider was revoked while the request was pending: the approval no longer counts */
  counts?: boolean;
}

const counted = (decisions: readonly DecisionFacts[]) => decisions.filter((d) => d.counts !== false);

/** A pending request whose time ran out is expired, whether or not a writer has marked it yet. */
export function isPastExpiry(request: Pick<RequestFacts, 'status' | 'expiresAt'>, now: Date): boolean {
  return request.status === 'pending' && now.getTime() >= request.expiresAt.getTime();
}

export function effectiveStatus(request: Pick<RequestFacts, 'status' | 'expiresAt'>, now: Date): RequestStatus {
  return isPastExpiry(request, now) ? 'expired' : request.status;
}

/** The sign-offs this person may give on this request, in the order they are preferred. */
export function eligibleSignOffs(decider: Principal, request: Pick<RequestFacts, 'requesterDepartment'>): SignOff[] {
  const out: SignOff[] = [];
  // The department slot first: only this department's heads can give it, while any
  // security head can give the other, so a person holding both roles leaves the
  // slot that more people can fill.
  if (hasRole(decider, 'department_head') && decider.department === request.requesterDepartment)
    out.push('department_head');
  if (hasRole(decider, 'security_head')) out.push('security_head');
  return out;
}

/** Which sign-offs are already given by approvals. */
export function givenSignOffs(decisions: readonly DecisionFacts[]): Set<SignOff> {
  return new Set(
    counted(decisions)
      .filter((d) => d.decision === 'approve')
      .map((d) => d.countedAs),
  );
}

/** The status that follows from the decisions recorded on a request that was pending. */
export function outcomeOf(decisions: readonly DecisionFacts[]): 'pending' | 'approved' | 'rejected' {
  if (decisions.some((d) => d.decision === 'reject')) return 'rejected';
  const given = givenSignOffs(decisions);
  const approvers = new Set(
    counted(decisions)
      .filter((d) => d.decision === 'approve')
      .map((d) => d.deciderId),
  );
  return SIGN_OFFS.every((s) => given.has(s)) && approvers.size >= SIGN_OFFS.length ? 'approved' : 'pending';
}

export interface DecisionPlan {
  countedAs: SignOff;
  outcome: 'pending' | 'approved' | 'rejected';
}

/**
 * Checks one decision against the request as it stands (read under a row lock)
 * and says what it counts as and what the request becomes. Throws the refusal.
 */
export function planDecision(
  request: RequestFacts,
  decisions: readonly DecisionFacts[],
  decider: Principal,
  decision: Decision,
  now: Date,
): DecisionPlan {
  if (!hasRole(decider, 'department_head', 'security_head')) {
    throw forbidden('only a department_head or a security_head decides access requests', 'wrong_role');
  }
  // Who may decide is answered before anything about the request's state is revealed.
  if (decider.id === request.requesterId)
    throw forbidden('the requester cannot decide their own access request', 'own_request');
  const byRole = eligibleSignOffs(decider, request);
  if (byRole.length === 0) {
    throw forbidden(
      'a department_head decides only requests filed by staff of their own department',
      'not_your_department',
    );
  }
  const fixed = request.signers?.get(decider.id);
  const eligible = request.signers ? byRole.filter((s) => fixed?.includes(s)) : byRole;
  if (eligible.length === 0) {
    throw forbidden('you were not among the people who could sign this request when it was filed', 'not_a_signer');
  }
  if (effectiveStatus(request, now) === 'expired')
    throw gone('request_expired', 'this access request expired before it was decided');
  if (request.status !== 'pending')
    throw conflict(`request_${request.status}`, `this access request is already ${request.status}`);
  if (decisions.some((d) => d.deciderId === decider.id))
    throw conflict('already_decided', 'you have already decided this access request');

  let countedAs: SignOff;
  if (decision === 'reject') {
    countedAs = eligible[0] as SignOff;
  } else {
    const given = givenSignOffs(decisions);
    const open = eligible.find((s) => !given.has(s));
    if (!open) throw alreadySignedAs(eligible);
    countedAs = open;
  }
  return { countedAs, outcome: outcomeOf([...decisions, { deciderId: decider.id, decision, countedAs }]) };
}

function alreadySignedAs(eligible: SignOff[]): VaultError {
  return conflict(
    'sign_off_already_given',
    `the ${eligible.join(' and ')} sign-off of this request is already given by someone else`,
  );
}
