import { describe, expect, it } from 'vitest';
import type { Hold } from '../../console/api-types.js';
import { auditSentence } from '../../console/audit-sentences.js';
import { audioBytes, formatSize, formatSpan, formatTime, shortDigest, untilText } from '../../console/format.js';
import { retentionText } from '../../console/retention.js';

const UTC = { locale: 'en-GB', timeZone: 'UTC' };

describe('console formats', () => {
  it('writes every time with its zone, in the zone asked for', () => {
    expect(formatTime('2026-12-01T06:30:00.000Z', UTC)).toBe('1 Dec 2026, 06:30 UTC');
    expect(formatTime('2026-12-01T06:30:00.000Z', { locale: 'en-GB', timeZone: 'Europe/Prague' })).toBe(
      '1 Dec 2026, 07:30 CET',
    );
    expect(formatTime('2026-07-01T06:30:00.000Z', { locale: 'en-US', timeZone: 'America/New_York' })).toBe(
      'Jul 1, 2026, 02:30 AM EDT',
    );
    expect(formatTime(null)).toBe('—');
  });

  it('writes spans in their two largest units, and deadlines as from now', () => {
    expect(formatSpan(0)).toBe('0 s');
    expect(formatSpan(45_000)).toBe('45 s');
    expect(formatSpan(2 * 3_600_000 + 5 * 60_000 + 59_000)).toBe('2 h 5 min');
    expect(formatSpan(3 * 86_400_000 + 3_600_000)).toBe('3 d 1 h');
    expect(formatSpan(3 * 86_400_000 + 30_000)).toBe('3 d');
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(untilText('2026-12-03T23:59:00Z', now)).toBe('in 2 d 23 h');
    expect(untilText('2026-11-30T23:00:00Z', now)).toBe('1 h ago');
  });

  it('writes sizes and the audio bytes behind the stored ciphertext', () => {
    expect(formatSize(812)).toBe('812 B');
    expect(formatSize(250_400)).toBe('250.4 kB');
    expect(formatSize(3_140_000)).toBe('3.1 MB');
    // 16 chunks of 16 kB audio, each stored with its 41-byte envelope.
    expect(audioBytes(16 * (16_384 + 41), 16)).toBe(16 * 16_384);
    expect(shortDigest('0123456789abcdef'.repeat(4))).toBe('0123 4567 89ab cdef');
  });
});

describe('console retention text', () => {
  const retainUntil = '2026-12-08T10:00:00.000Z';
  const hold = (reason: string, until: string | null): Hold => ({
    id: `hold-${reason}`,
    reason,
    until,
    placedBy: 'platform',
    placedAt: '2026-12-01T10:00:00.000Z',
  });

  it('says when a sealed recording is destroyed, and that a hold may keep it', () => {
    expect(retentionText({ status: 'sealed', retainUntil, holds: [] }, UTC)).toBe(
      'Destroyed on 8 Dec 2026, 10:00 UTC unless a hold keeps it.',
    );
  });

  it('names the hold that keeps it longer, and never the earlier date beside it', () => {
    const text = retentionText(
      { status: 'sealed', retainUntil, holds: [hold('complaint', '2027-01-10T10:00:00.000Z')] },
      UTC,
    );
    expect(text).toBe(
      'Held until 10 Jan 2027, 10:00 UTC by a complaint hold; destroyed then unless a hold keeps it longer.',
    );
    expect(text).not.toContain('8 Dec');
  });

  it('says an open-ended legal hold keeps it until lifted, and a shorter hold keeps nothing longer', () => {
    expect(
      retentionText(
        { status: 'sealed', retainUntil, holds: [hold('complaint', '2027-01-10T10:00:00.000Z'), hold('legal', null)] },
        UTC,
      ),
    ).toBe('Held by a legal hold with no end date: kept until it is lifted.');
    expect(
      retentionText({ status: 'sealed', retainUntil, holds: [hold('bad_review', '2026-12-05T10:00:00.000Z')] }, UTC),
    ).toBe(
      'Destroyed on 8 Dec 2026, 10:00 UTC unless a hold keeps it (a bad-review hold runs until 5 Dec 2026, 10:00 UTC, earlier than that).',
    );
  });

  it('says an expired recording is destroyed', () => {
    expect(
      retentionText({ status: 'expired', retainUntil, holds: [], expiredAt: '2026-12-08T10:01:00.000Z' }, UTC),
    ).toBe('Retention ended 8 Dec 2026, 10:01 UTC: its audio is destroyed.');
  });
});

describe('console audit sentences', () => {
  const names = { 'head-hana': 'Hana Head', 'officer-olga': 'Olga Officer' };
  const entry = {
    actorId: 'head-hana',
    outcome: 'ok',
    orderId: 'ord-2001',
    recordingId: null,
    details: {} as Record<string, unknown>,
  };

  it('tells who did what to which order, with names', () => {
    expect(
      auditSentence(
        {
          ...entry,
          action: 'access_request.decided',
          details: {
            requestId: 'req_0123456789abcdef',
            decision: 'approve',
            countedAs: 'department_head',
            status: 'pending',
          },
        },
        names,
      ),
    ).toBe('Hana Head approved req_01234567… for order ord-2001 as department head.');
    expect(
      auditSentence(
        {
          ...entry,
          actorId: 'officer-olga',
          action: 'access_request.filed',
          details: { requestId: 'req_0123456789abcdef', purpose: 'legal_request', ticketRef: 'CS-1' },
        },
        names,
      ),
    ).toBe(
      'Olga Officer asked for access to order ord-2001 (request req_01234567…, purpose legal request, ticket CS-1).',
    );
  });

  it('names the vault for system actors, keeps unknown ids, and says when something was refused', () => {
    expect(auditSentence({ ...entry, actorId: null, action: 'access_request.expired', details: {} }, names)).toBe(
      'Request for order ord-2001 expired before it was decided.',
    );
    expect(auditSentence({ ...entry, actorId: 'system:sweeper', action: 'order.keys_shredded' }, names)).toBe(
      'The vault (sweeper): order keys shredded for order ord-2001.',
    );
    expect(
      auditSentence(
        {
          ...entry,
          actorId: 'mallory',
          outcome: 'refused',
          action: 'playback.refused',
          details: { code: 'not_approved' },
        },
        names,
      ),
    ).toBe('mallory was refused: playback refused for order ord-2001 (not_approved).');
  });
});
