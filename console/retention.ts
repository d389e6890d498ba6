import type { Hold, RecordingMetadata } from './api-types.js';
import { formatTime, type Zone } from './format.js';

/**
 * What the console says about when a recording is destroyed, truthfully: only
 * holds keep a recording past its retainUntil (SPEC step 8); a hold that ends
 * earlier keeps nothing longer, a legal hold without an end keeps it until lifted.
 */
const HOLD_NAMES: Record<string, string> = {
  complaint: 'a complaint hold',
  bad_review: 'a bad-review hold',
  dispute: 'a dispute hold',
  legal: 'a legal hold',
};

const holdName = (h: Hold) => HOLD_NAMES[h.reason] ?? `a ${h.reason} hold`;

/** The hold that keeps the recording longest: an open-ended one first, else the latest end. */
export function longestHold(holds: readonly Hold[]): Hold | undefined {
  return [...holds].sort((a, b) => {
    if (a.until === null) return -1;
    if (b.until === null) return 1;
    return Date.parse(b.until) - Date.parse(a.until);
  })[0];
}

export function retentionText(
  r: Pick<RecordingMetadata, 'status' | 'retainUntil' | 'holds'> & { expiredAt?: string | null },
  zone: Zone = {},
): string {
  const t = (iso: string | null | undefined) => formatTime(iso, zone);
  if (r.status === 'expired')
    return `Retention ended${r.expiredAt ? ` ${t(r.expiredAt)}` : ''}: its audio is destroyed.`;
  if (r.retainUntil === null)
    return r.status === 'recording'
      ? 'Still recording: kept for the retention period once sealed.'
      : 'Kept for the retention period.';
  const base = `Destroyed on ${t(r.retainUntil)} unless a hold keeps it`;
  const hold = longestHold(r.holds ?? []);
  if (!hold) return `${base}.`;
  if (hold.until === null) return `Held by ${holdName(hold)} with no end date: kept until it is lifted.`;
  if (Date.parse(hold.until) > Date.parse(r.retainUntil))
    return `Held until ${t(hold.until)} by ${holdName(hold)}; destroyed then unless a hold keeps it longer.`;
  return `${base} (${holdName(hold)} runs until ${t(hold.until)}, earlier than that).`;
}
