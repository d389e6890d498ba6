import { parseItem } from 'structured-headers';
import { badRequest } from '../errors.js';

/**
 * @module
 * The `Idempotency-Key` request header of a recording start. The IETF draft
 * (httpapi-idempotency-key-header) makes it a Structured Field String
 * (`Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`); many clients
 * send the bare value (`Idempotency-Key: 8e03978e-...`), so both are accepted
 * and mean the same key. 1 to 255 visible ASCII characters; anything else,
 * including two keys (a comma-joined repeated header), is bad input.
 */
export const IDEMPOTENCY_KEY = 'idempotency-key';
const MAX_LENGTH = 255;
const BARE = /^[\x21-\x7e]+$/;

const invalid = (why: string) => badRequest(IDEMPOTENCY_KEY, `Idempotency-Key ${why}`);

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let key: string;
  if (text.startsWith('"')) {
    let value: unknown;
    try {
      [value] = parseItem(text);
    } catch {
      throw invalid('is not a valid quoted string');
    }
    if (typeof value !== 'string') throw invalid('must be a string');
    key = value;
  } else {
    if (!BARE.test(text) || text.includes(',') || text.includes('"'))
      throw invalid('must be one key of visible ASCII characters, quoted or bare');
    key = text;
  }
  if (key.length < 1 || key.length > MAX_LENGTH) throw invalid(`must be 1 to ${MAX_LENGTH} characters`);
  return key;
}
