import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentDigest } from '../../src/client/phone-client.js';
import { claimedSha256 } from '../../src/http/content-digest.js';
import { idempotencyKeyOf } from '../../src/http/idempotency-key.js';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { details?: { field?: string } }).details?.field;
  }
  return 'no error';
};

describe('Content-Digest (RFC 9530 over an RFC 8941 dictionary)', () => {
  const body = Buffer.from('hello');
  const digest = createHash('sha256').update(body).digest();

  it('reads what the phone sends (RFC 9530 §2 example form)', () => {
    expect(contentDigest(body)).toBe('sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:');
    expect(Buffer.from(claimedSha256(contentDigest(body))!)).toEqual(digest);
  });

  it('finds sha-256 among other members, with whitespace and parameters, last one winning', () => {
    const b64 = digest.toString('base64');
    expect(Buffer.from(claimedSha256(`sha-512=:AAAA:,   sha-256=:${b64}:;x=1`)!)).toEqual(digest);
    expect(Buffer.from(claimedSha256(`sha-256=:AAAA:, sha-256=:${b64}:`)!)).toEqual(digest);
  });

  it('is absent when the header is, or names no sha-256', () => {
    expect(claimedSha256(undefined)).toBeUndefined();
    expect(claimedSha256('sha-512=:AAAA:')).toBeUndefined();
    expect(claimedSha256('')).toBeUndefined();
  });

  it('refuses a malformed header as bad input naming content-digest', () => {
    for (const bad of [
      'sha-256',
      'sha-256=?1',
      'sha-256=:AAAA:',
      'sha-256=("a")',
      'Sha-256=:AAAA:',
      '=:AAAA:',
      'sha-256=:AAAA',
    ]) {
      expect(
        field(() => claimedSha256(bad)),
        bad,
      ).toBe('content-digest');
    }
  });
});

describe('Idempotency-Key', () => {
  it('takes a bare key or a structured-field string, as the same key', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(idempotencyKeyOf('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(idempotencyKeyOf('a'.repeat(255))).toHaveLength(255);
  });

  it('refuses empty, long, several or non-ASCII keys as bad input naming idempotency-key', () => {
    for (const bad of [
      '',
      '""',
      'a'.repeat(256),
      'a, b',
      '"a", "b"',
      'a b',
      'caf\u00e9',
      '"unterminated',
      '"x";p=?2',
    ]) {
      expect(
        field(() => idempotencyKeyOf(bad)),
        bad,
      ).toBe('idempotency-key');
    }
  });
});
