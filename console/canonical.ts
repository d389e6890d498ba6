/**
 * The decision a head signs (SPEC "Signed sign-offs"), as the UTF-8 bytes of its
 * RFC 8785 canonical JSON. The object is flat and every value a string, so the
 * canonical form is the keys sorted by UTF-16 code units and JSON.stringify's
 * string escaping (which RFC 8785 adopts); test/unit/console-canonical.test.ts
 * checks these bytes against the server's canonicalJson.
 */
export const DECISION_VERSION = 'visit-vault/decision/v1';

export interface DecisionPayload {
  requestId: string;
  requestDigest: string;
  decision: 'approve' | 'reject';
  comment: string;
  signerId: string;
}

export function canonicalFlatJson(object: Readonly<Record<string, string>>): string {
  const keys = Object.keys(object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(object[k])}`).join(',')}}`;
}

export function decisionBytes(p: DecisionPayload): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(canonicalFlatJson({ v: DECISION_VERSION, ...p }));
}

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (const b of view) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
