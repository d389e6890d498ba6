import type { AccessRequest } from './api-types.js';
import { el, facts, when } from './dom.js';

const SIGN_OFFS = ['department_head', 'security_head'] as const;
const LABEL: Record<(typeof SIGN_OFFS)[number], string> = {
  department_head: 'department head',
  security_head: 'head of security',
};

/** The sign-offs a pending request still waits for. */
export function awaiting(request: AccessRequest): string {
  const given = new Set(request.decisions.filter((d) => d.decision === 'approve').map((d) => d.countedAs));
  const missing = SIGN_OFFS.filter((s) => !given.has(s)).map((s) => LABEL[s]);
  return missing.length ? missing.join(' and ') : 'nothing';
}

export function requestFacts(request: AccessRequest): HTMLDListElement {
  const pairs: [string, string][] = [
    ['Request', request.id],
    ['Order', request.orderId],
    ['Requested by', request.requesterId],
    ['Purpose', request.purpose],
    ['Reason', request.reason],
    ['Ticket', request.ticketRef],
    ['Filed', when(request.createdAt)],
  ];
  if (request.status === 'pending') pairs.push(['Decide by', when(request.expiresAt)], ['Awaiting', awaiting(request)]);
  if (request.grantExpiresAt)
    pairs.push(['Approved', when(request.approvedAt)], ['Grant expires', when(request.grantExpiresAt)]);
  return facts(pairs);
}

export function statusBadge(request: AccessRequest): HTMLSpanElement {
  return el('span', {
    class: `badge ${request.status}`,
    text: request.status,
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
        el('strong', { text: `${d.decision === 'approve' ? 'Approved' : 'Rejected'} by ${d.deciderId}` }),
        ` as ${LABEL[d.countedAs]}, ${when(d.decidedAt)}: `,
        el('q', { text: d.comment }),
      ),
    ),
  );
}
