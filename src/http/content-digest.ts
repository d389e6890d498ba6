import { type Dictionary, parseDictionary } from 'structured-headers';
import { badRequest } from '../errors.js';

/**
 * @module
 * The `Content-Digest` request header (RFC 9530): a Structured Field
 * Dictionary (RFC 8941 §3.2) from algorithm name to a Byte Sequence, e.g.
 * `Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`.
 * The vault checks `sha-256`; other algorithms are ignored, as RFC 9530 §2
 * lets a recipient do. A header that is not a valid dictionary, or whose
 * `sha-256` is not a 32-byte Byte Sequence, is refused as bad input: a phone
 * that sends a digest the vault cannot read must not believe it was checked.
 */
export const CONTENT_DIGEST = 'content-digest';
const SHA256_BYTES = 32;

const invalid = (why: string) => badRequest(CONTENT_DIGEST, `Content-Digest ${why}`, 'invalid_content_digest');

/** The SHA-256 the header claims for the body, or undefined when the header is absent or names no sha-256. */
export function claimedSha256(header: string | undefined): Uint8Array | undefined {
  if (header === undefined) return undefined;
  let dict: Dictionary;
  try {
    dict = parseDictionary(header);
  } catch {
    throw invalid('is not a structured-field dictionary (expected sha-256=:<base64>:)');
  }
  const member = dict.get('sha-256');
  if (member === undefined) return undefined;
  const [value] = member;
  // An Inner List's value is an array of items; a Byte Sequence parses to an ArrayBuffer.
  if (Array.isArray(value) || !(value instanceof ArrayBuffer))
    throw invalid('sha-256 must be a byte sequence (:<base64>:)');
  if (value.byteLength !== SHA256_BYTES) throw invalid(`sha-256 must be ${SHA256_BYTES} bytes`);
  return new Uint8Array(value);
}
