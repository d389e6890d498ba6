import type { AccessRequest } from './api-types.js';
import { el, facts, when } from './dom.js';
import { formatTime, shortDigest, untilText } from './format.js';

const SIGN_OFFS = ['department_head', 'security_head'] as const;
export const SIGN_OFF_LABEL: Record<(typeof SIGN_OFFS)[number], string> = {
  department_head: 'department head',
  security_head: 'head of security',
};

export const purposeText = (p: string): string => p.replace(/_/g, ' ');
export const requesterText = (r: AccessRequest): string => r.requesterName ?? r.requesterId;

/** The sign-offs a pending request still waits for. */
export function awaiting(request: AccessRequest): string {
  const given = new Set(request.decisions.filter((d) => d.decision === 'approve').map((d) => d.countedAs));
  const missing = SIGN_OFFS.filter((s) => !given.has(s)).map((s) => SIGN_OFF_LABEL[s]);
  return missing.length ? missing.join(' and ') : 'nothing';
}

/** "1 Dec 2026, 09:00 UTC (in 71 h 59 min)". */
export function deadline(iso: string): HTMLElement {
  return el('span', {}, when(iso), ` (${untilText(iso, Date.now())})`);
}

export function requestFacts(request: AccessRequest): HTMLDListElement {
  const pairs: [string, string | Node][] = [
    ['Order', request.orderId],
    ['Requested by', requesterText(request)],
    ['Purpose', purposeText(request.purpose)],
    ['Reason', request.reason],
    ['Ticket', request.ticketRef],
    ['Filed', when(request.createdAt)],
  ];
  if (request.status === 'pending')
    pairs.push(['Decide by', deadline(request.expiresAt)], ['Awaiting', awaiting(request)]);
  if (request.grantExpiresAt)
    pairs.push(['Approved', when(request.approvedAt)], ['Playable until', when(request.grantExpiresAt)]);
  if (request.digest)
    pairs.push(['Digest', el('code', { text: shortDigest(request.digest), attrs: { title: request.digest } })]);
  pairs.push(['Request id', el('code', { text: request.id })]);
  return facts(pairs);
}

export const STATUS_TEXT: Record<AccessRequest['status'], string> = {
  pending: 'pending',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  revoked: 'revoked',
};

export function statusBadge(request: Pick<AccessRequest, 'status'>): HTMLSpanElement {
  return el('span', {
    class: `badge ${request.status}`,
    text: STATUS_TEXT[request.status],
    attrs: { 'data-status': request.status },
  });
}

export function decisionList(request: AccessRequest): HTMLElement {
  if (request.decisions.length === 0) return el('p', { class: 'muted', text: 'No sign-offs yet.' });
  return el(
    'ul',
    { class: 'decisions' },
    ...request.decisions.map((d) =>
      el(
        'li',
        {},
        el('strong', {
          text: `${d.decision === 'approve' ? 'Approved' : 'Rejected'} by ${d.deciderName ?? d.deciderId}`,
        }),
        ` as ${SIGN_OFF_LABEL[d.countedAs]}, ${formatTime(d.decidedAt)}: `,
        el('q', { text: d.comment }),
        d.signerKeyId ? el('span', { class: 'muted', text: ` (signed with key ${d.signerKeyId})` }) : ' (unsigned)',
      ),
    ),
  );
}
