import sodium from 'libsodium-wrappers';

export type Sodium = typeof sodium;

let ready: Promise<Sodium> | undefined;

/** libsodium, initialised once. Every other module gets it from here. */
export function getSodium(): Promise<Sodium> {
  ready ??= sodium.ready.then(() => sodium);
  return ready;
}

/** The initialised module, for synchronous code that runs after getSodium() resolved at start. */
export function sodiumReady(): Sodium {
  // libsodium-wrappers throws on use before ready; calling getSodium() at start guarantees readiness.
  return sodium;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding (libsodium's default variant). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Strict base64url without padding; null for anything else. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray low bits in the last character).
  if (bytes.toString('base64url') !== text) return null;
  return new Uint8Array(bytes);
}
