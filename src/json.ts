import canonicalize from 'canonicalize';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * RFC 8785 (JSON Canonicalization Scheme) text of a value: one byte string per
 * value, for hashing and signing. Every hash and signature input the SPEC
 * defines (audit leaves, request digests, decisions, receipts, shred receipts)
 * goes through here. Throws on what JCS cannot represent (lone surrogates,
 * NaN, Infinity): such a value must be refused at the edge, never signed.
 */
export function canonicalJson(value: JsonValue): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** The UTF-8 bytes of canonicalJson(value), which is what gets hashed or signed. */
export function canonicalBytes(value: JsonValue): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
