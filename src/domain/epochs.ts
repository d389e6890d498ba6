/**
 * @module
 * Which key an order's secret key belongs under (SPEC Crypto, epoch keys):
 * pure rules, no I/O.
 *
 * Epochs are consecutive spans of VAULT_EPOCH_LENGTH (a UTC day by default)
 * aligned to the Unix epoch, so every server computes the same epoch for the
 * same instant. An epoch's id is its start as an ISO 8601 time. A legal hold
 * without an end has a key of its own, id "hold:<hold id>".
 *
 * An order's key goes under the epoch of the last instant anything may still
 * need it (its horizon): the latest of
 *   - the retainUntil of each sealed or incomplete recording;
 *   - the end of each active hold;
 *   - for a recording still uploading: now + retention (it would end there if
 *     the phone completed it now; when it is sealed or marked incomplete the
 *     real retainUntil moves the key again);
 *   - for an order with no recording yet: max(scheduledAt, now) + retention,
 *     where a recording made on the scheduled day would end;
 *   - now: a key is never put under an epoch that has already ended.
 * An active hold without an end overrides all of this: the order's key goes
 * under that hold's own key (the earliest such hold, so the choice is stable).
 */
export interface EpochRef {
  id: string;
  kind: 'epoch' | 'hold';
  holdId: string | null;
  startsAt: Date;
  /** an epoch's end; null for a hold key while its hold is in force */
  endsAt: Date | null;
}

/** The epoch that contains `at`: [floor(at / length) * length, + length). */
export function epochContaining(at: Date, lengthMs: number): EpochRef {
  if (!Number.isSafeInteger(lengthMs) || lengthMs <= 0) throw new RangeError('epoch length must be a positive integer');
  const start = Math.floor(at.getTime() / lengthMs) * lengthMs;
  const startsAt = new Date(start);
  return { id: startsAt.toISOString(), kind: 'epoch', holdId: null, startsAt, endsAt: new Date(start + lengthMs) };
}

export const holdKeyId = (holdId: string): string => `hold:${holdId}`;

/** A hold's own key, made now. */
export function holdKeyRef(holdId: string, createdAt: Date): EpochRef {
  return { id: holdKeyId(holdId), kind: 'hold', holdId, startsAt: createdAt, endsAt: null };
}

/** What the database says about an order's retention, for horizonOf. */
export interface RetentionFacts {
  scheduledAt: Date;
  /** latest retainUntil of its sealed or incomplete recordings */
  retainedUntil: Date | null;
  /** some recording is still uploading */
  uploading: boolean;
  /** it has (or had) any recording at all */
  hasRecordings: boolean;
  /** latest end of its active holds that have one */
  heldUntil: Date | null;
  /** the earliest-placed active hold without an end, if any */
  openHoldId: string | null;
}

export type KeyHorizon = { kind: 'hold'; holdId: string } | { kind: 'epoch'; until: Date };

export function horizonOf(facts: RetentionFacts, now: Date, retentionMs: number): KeyHorizon {
  if (facts.openHoldId) return { kind: 'hold', holdId: facts.openHoldId };
  let until = now.getTime();
  const consider = (t: number | undefined) => {
    if (t !== undefined && t > until) until = t;
  };
  consider(facts.retainedUntil?.getTime());
  consider(facts.heldUntil?.getTime());
  if (facts.uploading) consider(now.getTime() + retentionMs);
  if (!facts.hasRecordings) consider(Math.max(facts.scheduledAt.getTime(), now.getTime()) + retentionMs);
  return { kind: 'epoch', until: new Date(until) };
}

/** The key an order with these facts belongs under, now. */
export function targetEpoch(
  facts: RetentionFacts,
  now: Date,
  config: { retentionMs: number; epochLengthMs: number },
): EpochRef {
  const horizon = horizonOf(facts, now, config.retentionMs);
  return horizon.kind === 'hold'
    ? holdKeyRef(horizon.holdId, now)
    : epochContaining(horizon.until, config.epochLengthMs);
}

/**
 * When an epoch key may go: its end (a hold key's end is when its hold stopped
 * needing it) plus the backup window, the age of the oldest database backup
 * kept. Null while a hold key's hold is in force. It also needs no order to be
 * wrapped under it any more; the sweeper checks that.
 */
export function destroyableAt(epoch: Pick<EpochRef, 'endsAt'>, backupWindowMs: number): Date | null {
  return epoch.endsAt ? new Date(epoch.endsAt.getTime() + backupWindowMs) : null;
}
