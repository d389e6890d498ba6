import type { ConsentRecord } from '../store/db/orders.js';

export type ConsentGate = { open: true } | { open: false; reason: string };

/**
 * Recording may start only when both parties consented and nobody objected.
 * An objection from either party blocks the order for good: a later consent
 * does not undo it.
 */
export function consentGate(consents: readonly ConsentRecord[]): ConsentGate {
  const objector = consents.find((c) => c.decision === 'object');
  if (objector) return { open: false, reason: `the ${objector.party} objected to recording` };
  const missing = (['beautician', 'customer'] as const).filter(
    (party) => !consents.some((c) => c.party === party && c.decision === 'consent'),
  );
  if (missing.length > 0) return { open: false, reason: `consent missing from: ${missing.join(', ')}` };
  return { open: true };
}
