import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  destroyableAt,
  epochContaining,
  horizonOf,
  type RetentionFacts,
  targetEpoch,
} from '../../src/domain/epochs.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETENTION = 7 * DAY;
const now = new Date('2026-03-10T15:30:00.000Z');
const none: RetentionFacts = {
  scheduledAt: new Date('2026-03-10T09:00:00.000Z'),
  retainedUntil: null,
  uploading: false,
  hasRecordings: true,
  heldUntil: null,
  openHoldId: null,
};

describe('epochContaining', () => {
  it('is the UTC day by default, named by its start', () => {
    expect(epochContaining(new Date('2026-03-10T23:59:59.999Z'), DAY)).toEqual({
      id: '2026-03-10T00:00:00.000Z',
      kind: 'epoch',
      holdId: null,
      startsAt: new Date('2026-03-10T00:00:00.000Z'),
      endsAt: new Date('2026-03-11T00:00:00.000Z'),
    });
    expect(epochContaining(new Date('2026-03-11T00:00:00.000Z'), DAY).id).toBe('2026-03-11T00:00:00.000Z');
  });

  it('aligns any length to the Unix epoch, so every server agrees', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.constantFrom(1000, 30_000, HOUR, 6 * HOUR, DAY),
        (t, length) => {
          const e = epochContaining(new Date(t), length);
          expect(e.startsAt.getTime() % length).toBe(0);
          expect(e.startsAt.getTime()).toBeLessThanOrEqual(t);
          expect(e.endsAt!.getTime()).toBe(e.startsAt.getTime() + length);
          expect(e.endsAt!.getTime()).toBeGreaterThan(t);
          expect(e.id).toBe(e.startsAt.toISOString());
        },
      ),
    );
  });

  it('refuses a length that is not a positive integer', () => {
    expect(() => epochContaining(now, 0)).toThrow(RangeError);
    expect(() => epochContaining(now, 1.5)).toThrow(RangeError);
  });
});

describe('horizonOf: the last instant anything may need the order key', () => {
  it('is the latest retainUntil of its sealed or incomplete recordings', () => {
    const retained = new Date('2026-03-17T10:00:00.000Z');
    expect(horizonOf({ ...none, retainedUntil: retained }, now, RETENTION)).toEqual({ kind: 'epoch', until: retained });
  });

  it('is pushed out by an active hold that ends later', () => {
    const held = new Date('2026-05-01T00:00:00.000Z');
    const facts = { ...none, retainedUntil: new Date('2026-03-17T10:00:00.000Z'), heldUntil: held };
    expect(horizonOf(facts, now, RETENTION)).toEqual({ kind: 'epoch', until: held });
  });

  it('is now + retention while a recording is still uploading', () => {
    const facts = { ...none, retainedUntil: new Date('2026-03-12T00:00:00.000Z'), uploading: true };
    expect(horizonOf(facts, now, RETENTION)).toEqual({ kind: 'epoch', until: new Date(now.getTime() + RETENTION) });
  });

  it('is where a recording made on the scheduled day would end, for an order with none yet', () => {
    const later = new Date('2026-04-01T10:00:00.000Z');
    const facts = { ...none, hasRecordings: false, scheduledAt: later };
    expect(horizonOf(facts, now, RETENTION)).toEqual({ kind: 'epoch', until: new Date(later.getTime() + RETENTION) });
    // Scheduled in the past (a late visit): counted from now.
    expect(horizonOf({ ...facts, scheduledAt: new Date('2026-01-01T00:00:00Z') }, now, RETENTION)).toEqual({
      kind: 'epoch',
      until: new Date(now.getTime() + RETENTION),
    });
  });

  it('is never before now: a key never goes under an epoch that has ended', () => {
    const facts = { ...none, retainedUntil: new Date('2026-03-01T00:00:00.000Z') };
    expect(horizonOf(facts, now, RETENTION)).toEqual({ kind: 'epoch', until: now });
  });

  it('is the hold key of an active hold without an end, whatever else applies', () => {
    const facts = { ...none, retainedUntil: new Date('2026-03-17T10:00:00Z'), openHoldId: 'hold_1' };
    expect(horizonOf(facts, now, RETENTION)).toEqual({ kind: 'hold', holdId: 'hold_1' });
    expect(targetEpoch(facts, now, { retentionMs: RETENTION, epochLengthMs: DAY })).toMatchObject({
      id: 'hold:hold_1',
      kind: 'hold',
      holdId: 'hold_1',
      endsAt: null,
    });
  });
});

describe('targetEpoch and destroyableAt', () => {
  it('puts the key under the epoch containing its horizon', () => {
    const facts = { ...none, retainedUntil: new Date('2026-03-17T10:00:00.000Z') };
    expect(targetEpoch(facts, now, { retentionMs: RETENTION, epochLengthMs: DAY }).id).toBe('2026-03-17T00:00:00.000Z');
  });

  it('destroys an epoch key its end plus the backup window after; a hold key in force has no date', () => {
    const e = epochContaining(new Date('2026-03-17T10:00:00.000Z'), DAY);
    expect(destroyableAt(e, 35 * DAY)).toEqual(new Date('2026-04-22T00:00:00.000Z'));
    expect(destroyableAt({ endsAt: null }, 35 * DAY)).toBeNull();
  });
});
