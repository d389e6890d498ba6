import { createHash } from 'node:crypto';
import { getSodium, toBase64Url } from '../crypto/sodium.js';

const TOKEN_PREFIX = 'vv_';

/** A bearer token: 32 random bytes, base64url, shown once; only its hash is stored. */
export async function newToken(): Promise<string> {
  const sodium = await getSodium();
  return TOKEN_PREFIX + toBase64Url(sodium.randombytes_buf(32));
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
