/**
 * @module
 * Text a client sent that no store can keep: PostgreSQL refuses NUL in text
 * and jsonb, and an unpaired UTF-16 surrogate has no UTF-8 form (jsonb refuses
 * its escape; a text column would silently get U+FFFD instead). One check for
 * every field (src/http/validate.ts), and one way to record such text safely
 * where it must be kept anyway (a refused request's path, in the audit log).
 */

// With the u flag a surrogate class matches only a surrogate that is not half of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why this string cannot be stored as it is, or null when it can. */
export function textFault(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no unpaired surrogate)';
  return null;
}

/**
 * The string with NUL, other C0/C1 controls and unpaired surrogates written as
 * `\uXXXX` (a backslash doubled), cut to `max` characters: always storable,
 * and no two different inputs give the same text.
 */
export function escapeText(s: string, max = 300): string {
  let out = '';
  for (let i = 0; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    const isHigh = c >= 0xd800 && c <= 0xdbff;
    const isLow = c >= 0xdc00 && c <= 0xdfff;
    const next = s.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += s.slice(i, i + 2);
      i++;
    } else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || isHigh || isLow) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s.charAt(i);
  }
  return out.slice(0, max);
}
