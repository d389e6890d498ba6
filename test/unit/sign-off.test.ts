import { describe, expect, it } from 'vitest';
import type { Principal, Role } from '../../src/domain/principal.js';
import {
  type DecisionFacts,
  effectiveStatus,
  eligibleSignOffs,
  outcomeOf,
  planDecision,
  type RequestFacts,
} from '../../src/domain/sign-off.js';
import type { Decision } from '../../src/domain/vocabulary.js';
import { isVaultError } from '../../src/errors.js';

const now = new Date('2026-03-01T12:00:00Z');
const later = new Date('2026-03-04T12:00:00Z');

const person = (id: string, roles: Role[], department = 'disputes'): Principal => ({ id, name: id, department, roles });
const requester = person('staff', ['dispute_staff']);
const deptHead = person('dh', ['department_head']);
const deptHead2 = person('dh2', ['department_head']);
const otherDeptHead = person('odh', ['department_head'], 'sales');
const secHead = person('sh', ['security_head'], 'security');
const secHead2 = person('sh2', ['security_head'], 'security');
const both = person('both', ['department_head', 'security_head']);
const bothElsewhere = person('both-else', ['department_head', 'security_head'], 'security');
const auditor = person('aud', ['auditor']);

const request = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  requesterId: requester.id,
  requesterDepartment: 'disputes',
  status: 'pending',
  expiresAt: later,
  ...over,
});

/** The refusal code a decision gets, or the plan. */
function attempt(req: RequestFacts, decisions: DecisionFacts[], who: Principal, decision: Decision, at = now) {
  try {
    return planDecision(req, decisions, who, decision, at);
  } catch (e) {
    if (!isVaultError(e)) throw e;
    return { refused: e.kind, code: e.code };
  }
}

/** Applies decisions one after another as the domain does, stopping at the first refusal. */
function run(steps: [Principal, Decision][], req = request()) {
  const decisions: DecisionFacts[] = [];
  let status: RequestFacts['status'] = req.status;
  for (const [who, decision] of steps) {
    const r = attempt({ ...req, status }, decisions, who, decision);
    if ('refused' in r) return { status, decisions, refusal: r };
    decisions.push({ deciderId: who.id, decision, countedAs: r.countedAs });
    status = r.outcome;
  }
  return { status, decisions, refusal: null };
}

describe('who may decide', () => {
  it('a department head of the requester department counts as department_head', () => {
    expect(attempt(request(), [], deptHead, 'approve')).toEqual({ countedAs: 'department_head', outcome: 'pending' });
  });
  it('a security head counts as security_head, whatever their department', () => {
    expect(attempt(request(), [], secHead, 'approve')).toEqual({ countedAs: 'security_head', outcome: 'pending' });
  });
  it('a department head of another department may not decide (403), not even reject', () => {
    expect(attempt(request(), [], otherDeptHead, 'approve')).toEqual({
      refused: 'forbidden',
      code: 'not_your_department',
    });
    expect(attempt(request(), [], otherDeptHead, 'reject')).toEqual({
      refused: 'forbidden',
      code: 'not_your_department',
    });
  });
  it('other roles may not decide', () => {
    expect(attempt(request(), [], auditor, 'approve')).toEqual({ refused: 'forbidden', code: 'wrong_role' });
    expect(attempt(request(), [], requester, 'approve')).toEqual({ refused: 'forbidden', code: 'wrong_role' });
  });
  it('the requester may not decide their own request, even holding a manager role', () => {
    const managerRequester = person('staff', ['dispute_staff', 'department_head', 'security_head']);
    expect(attempt(request(), [], managerRequester, 'approve')).toEqual({ refused: 'forbidden', code: 'own_request' });
    expect(attempt(request(), [], managerRequester, 'reject')).toEqual({ refused: 'forbidden', code: 'own_request' });
  });
  it('lists the sign-offs a person may give, department first', () => {
    expect(eligibleSignOffs(both, request())).toEqual(['department_head', 'security_head']);
    expect(eligibleSignOffs(bothElsewhere, request())).toEqual(['security_head']);
    expect(eligibleSignOffs(otherDeptHead, request())).toEqual([]);
    expect(eligibleSignOffs(auditor, request())).toEqual([]);
  });
});

describe('two sign-offs', () => {
  it('department head then security head approves', () => {
    expect(
      run([
        [deptHead, 'approve'],
        [secHead, 'approve'],
      ]),
    ).toMatchObject({ status: 'approved', refusal: null });
  });
  it('security head then department head approves', () => {
    expect(
      run([
        [secHead, 'approve'],
        [deptHead, 'approve'],
      ]),
    ).toMatchObject({ status: 'approved', refusal: null });
  });
  it('two department heads are not enough, the second finds the slot taken', () => {
    expect(
      run([
        [deptHead, 'approve'],
        [deptHead2, 'approve'],
      ]),
    ).toMatchObject({
      status: 'pending',
      refusal: { refused: 'conflict', code: 'sign_off_already_given' },
    });
  });
  it('two security heads are not enough', () => {
    expect(
      run([
        [secHead, 'approve'],
        [secHead2, 'approve'],
      ]),
    ).toMatchObject({
      status: 'pending',
      refusal: { refused: 'conflict', code: 'sign_off_already_given' },
    });
  });
  it('a person holding both roles counts once, and the other sign-off still comes from someone else', () => {
    const first = run([[both, 'approve']]);
    expect(first).toMatchObject({ status: 'pending', decisions: [{ countedAs: 'department_head' }] });
    expect(
      run([
        [both, 'approve'],
        [both, 'approve'],
      ]).refusal,
    ).toEqual({ refused: 'conflict', code: 'already_decided' });
    expect(
      run([
        [both, 'approve'],
        [secHead, 'approve'],
      ]),
    ).toMatchObject({
      status: 'approved',
      decisions: [{ countedAs: 'department_head' }, { countedAs: 'security_head' }],
    });
  });
  it('a person holding both roles fills whichever slot is still open', () => {
    expect(
      run([
        [deptHead, 'approve'],
        [both, 'approve'],
      ]),
    ).toMatchObject({ status: 'approved', decisions: [{}, { countedAs: 'security_head' }] });
    expect(
      run([
        [secHead, 'approve'],
        [both, 'approve'],
      ]),
    ).toMatchObject({ status: 'approved', decisions: [{}, { countedAs: 'department_head' }] });
  });
  it('the same person deciding twice gets 409, also after rejecting or changing their mind', () => {
    expect(
      run([
        [deptHead, 'approve'],
        [deptHead, 'approve'],
      ]).refusal,
    ).toEqual({ refused: 'conflict', code: 'already_decided' });
    expect(
      run([
        [deptHead, 'approve'],
        [deptHead, 'reject'],
      ]).refusal,
    ).toEqual({ refused: 'conflict', code: 'already_decided' });
  });
});

describe('rejection, finality and expiry', () => {
  it('one rejection rejects, from either head, before or after an approval', () => {
    expect(run([[deptHead, 'reject']]).status).toBe('rejected');
    expect(run([[secHead, 'reject']]).status).toBe('rejected');
    expect(
      run([
        [deptHead, 'approve'],
        [secHead, 'reject'],
      ]).status,
    ).toBe('rejected');
    expect(
      run([
        [secHead, 'approve'],
        [deptHead, 'reject'],
      ]).status,
    ).toBe('rejected');
  });
  it('a decision on an approved or rejected request gets 409', () => {
    expect(
      run([
        [deptHead, 'reject'],
        [secHead, 'approve'],
      ]).refusal,
    ).toEqual({ refused: 'conflict', code: 'request_rejected' });
    expect(
      run([
        [deptHead, 'approve'],
        [secHead, 'approve'],
        [secHead2, 'reject'],
      ]).refusal,
    ).toEqual({ refused: 'conflict', code: 'request_approved' });
  });
  it('a decision on an expired request gets 410, marked or not yet marked', () => {
    expect(attempt(request({ status: 'expired' }), [], deptHead, 'approve')).toEqual({
      refused: 'gone',
      code: 'request_expired',
    });
    expect(attempt(request(), [], deptHead, 'approve', later)).toEqual({ refused: 'gone', code: 'request_expired' });
    expect(attempt(request(), [], deptHead, 'approve', new Date(later.getTime() - 1))).toMatchObject({
      countedAs: 'department_head',
    });
  });
  it('the effective status of a pending request turns expired at expiresAt; decided requests never expire', () => {
    expect(effectiveStatus(request(), now)).toBe('pending');
    expect(effectiveStatus(request(), later)).toBe('expired');
    expect(effectiveStatus(request({ status: 'approved' }), later)).toBe('approved');
    expect(effectiveStatus(request({ status: 'rejected' }), later)).toBe('rejected');
  });
  it('outcomeOf needs both slots from two people', () => {
    expect(outcomeOf([])).toBe('pending');
    expect(outcomeOf([{ deciderId: 'a', decision: 'approve', countedAs: 'department_head' }])).toBe('pending');
    expect(
      outcomeOf([
        { deciderId: 'a', decision: 'approve', countedAs: 'department_head' },
        { deciderId: 'a', decision: 'approve', countedAs: 'security_head' },
      ]),
    ).toBe('pending');
    expect(
      outcomeOf([
        { deciderId: 'a', decision: 'approve', countedAs: 'department_head' },
        { deciderId: 'b', decision: 'approve', countedAs: 'security_head' },
      ]),
    ).toBe('approved');
  });
});

describe('every sequence of up to three decisions from the whole cast', () => {
  const cast = [requester, deptHead, deptHead2, otherDeptHead, secHead, secHead2, both, bothElsewhere, auditor];
  const moves = cast.flatMap((p) => (['approve', 'reject'] as const).map((d) => [p, d] as [Principal, Decision]));
  const sequences: [Principal, Decision][][] = [[]];
  for (let depth = 0; depth < 3; depth++) {
    for (const seq of sequences.filter((s) => s.length === depth)) for (const m of moves) sequences.push([...seq, m]);
  }

  it(`keeps the invariants over ${sequences.length} sequences`, () => {
    for (const steps of sequences) {
      const { status, decisions } = run(steps);
      const label = steps.map(([p, d]) => `${p.id}:${d}`).join(' ');
      const deciders = decisions.map((d) => d.deciderId);
      // Nobody decides twice; the requester, other departments' heads and non-managers never decide.
      expect(new Set(deciders).size, label).toBe(deciders.length);
      for (const id of deciders) expect(['staff', 'odh', 'aud'], label).not.toContain(id);
      // Each recorded decision counts as a sign-off its decider may give.
      for (const d of decisions)
        expect(eligibleSignOffs(cast.find((p) => p.id === d.deciderId)!, request()), label).toContain(d.countedAs);
      // Approved exactly when two different people gave the two different sign-offs and nobody rejected.
      const approvals = decisions.filter((d) => d.decision === 'approve');
      const rejected = decisions.some((d) => d.decision === 'reject');
      const twoSignOffs =
        new Set(approvals.map((d) => d.countedAs)).size === 2 && new Set(approvals.map((d) => d.deciderId)).size === 2;
      expect(status, label).toBe(rejected ? 'rejected' : twoSignOffs ? 'approved' : 'pending');
      // Nothing is recorded after the request left pending.
      const firstFinal = decisions.findIndex((_, i) => outcomeOf(decisions.slice(0, i + 1)) !== 'pending');
      if (firstFinal >= 0) expect(decisions.length, label).toBe(firstFinal + 1);
    }
  });
});
