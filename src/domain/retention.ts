import type { RecordingStatus } from './vocabulary.js';

/**
 * @module
 * Expiry by time (SPEC step 8): once a sealed or incomplete recording's
 * retainUntil has passed and no hold on its order is active, it is expired,
 * whether or not the sweeper has run yet. Every read decides it here; the
 * sweeper claims exactly these recordings (src/store/db/retention.ts). Only
 * holds extend retention: an access request, pending or approved, does not.
 */
export interface RetainedRecording {
  status: RecordingStatus;
  retainUntil: Date | null;
}

export function isExpiredAt(rec: RetainedRecording, now: Date, held: boolean): boolean {
  if (rec.status === 'expired') return true;
  if (rec.status !== 'sealed' && rec.status !== 'incomplete') return false;
  return rec.retainUntil !== null && rec.retainUntil.getTime() <= now.getTime() && !held;
}

/** The status a read reports: `expired` once expiry has come by time, before any sweep. */
export const statusAt = (rec: RetainedRecording, now: Date, held: boolean): RecordingStatus =>
  isExpiredAt(rec, now, held) ? 'expired' : rec.status;
