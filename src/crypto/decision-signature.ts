import { createHash } from 'node:crypto';
import { canonicalBytes } from '../json.js';
import { verifyEd25519 } from './log-key.js';
import { fromBase64Url, getSodium, toBase64Url } from './sodium.js';

/**
 * @module
 * Signed sign-offs (SPEC "Signed sign-offs"): what a head signs and how the
 * vault, the CLI and an offline verifier check it. Everything that builds the
 * signed bytes comes through here, so the signer and the verifiers cannot
 * drift apart.
 *
 *   request digest = hex SHA-256 of RFC 8785 JSON of
 *                    { id, orderId, purpose, reason, ticketRef, requesterId, filedAt, expiresAt }
 *   signed message = UTF-8 RFC 8785 JSON of
 *                    { "v": "visit-vault/decision/v1", requestId, requestDigest, decision, comment, signerId }
 *   signature      = Ed25519 (detached, 64 bytes, base64url) by the signer's registered key
 *   signing key id = base64url of the first 12 bytes of SHA-256(public key): 16 characters
 */
export const DECISION_VERSION = 'visit-vault/decision/v1';

/** The request fields the digest covers (times as ISO 8601 strings, as the API returns them). */
export interface DigestedRequest {
  id: string;
  orderId: string;
  purpose: string;
  reason: string;
  ticketRef: string;
  requesterId: string;
  /** the request's `createdAt` */
  filedAt: string;
  expiresAt: string;
}

export function requestDigest(r: DigestedRequest): string {
  const bytes = canonicalBytes({
    id: r.id,
    orderId: r.orderId,
    purpose: r.purpose,
    reason: r.reason,
    ticketRef: r.ticketRef,
    requesterId: r.requesterId,
    filedAt: r.filedAt,
    expiresAt: r.expiresAt,
  });
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SignedDecision {
  requestId: string;
  requestDigest: string;
  decision: 'approve' | 'reject';
  comment: string;
  signerId: string;
}

/** Exactly the bytes a head signs. */
export function decisionMessage(d: SignedDecision): Buffer {
  return canonicalBytes({
    v: DECISION_VERSION,
    requestId: d.requestId,
    requestDigest: d.requestDigest,
    decision: d.decision,
    comment: d.comment,
    signerId: d.signerId,
  });
}

const KEY_ID_BYTES = 12;

/** The id a signing key is known by: base64url of the first 12 bytes of SHA-256(public key). */
export function signingKeyId(publicKey: Uint8Array): string {
  return toBase64Url(createHash('sha256').update(publicKey).digest().subarray(0, KEY_ID_BYTES));
}

/** A registrable public key: base64url without padding, 32 bytes; null for anything else. */
export function parseSigningPublicKey(text: string): Uint8Array | null {
  const key = fromBase64Url(text);
  return key?.length === 32 ? key : null;
}

/** True when `signature` (base64url) is the holder of `publicKey` (base64url) signing this decision. */
export async function decisionSignatureValid(
  d: SignedDecision,
  signature: string,
  publicKey: string,
): Promise<boolean> {
  const sig = fromBase64Url(signature);
  const key = fromBase64Url(publicKey);
  if (!sig || !key) return false;
  return verifyEd25519(sig, decisionMessage(d), key);
}

export interface SigningKeyPair {
  /** base64url, 32 bytes: what the signer keeps secret (written 0600 by `vault keys signing-keygen`) */
  seed: string;
  /** base64url, 32 bytes: what `PUT /v1/me/signing-key` registers */
  publicKey: string;
  keyId: string;
}

/** The key pair of a base64url 32-byte seed; throws on anything else. */
export async function signingKeyFromSeed(seed: string): Promise<SigningKeyPair & { secretKey: Uint8Array }> {
  const bytes = fromBase64Url(seed);
  if (bytes?.length !== 32) throw new TypeError('a signing key seed is 32 bytes, base64url');
  const sodium = await getSodium();
  const { publicKey, privateKey } = sodium.crypto_sign_seed_keypair(bytes);
  sodium.memzero(bytes);
  return { seed, publicKey: toBase64Url(publicKey), keyId: signingKeyId(publicKey), secretKey: privateKey };
}

export async function generateSigningKey(): Promise<SigningKeyPair> {
  const sodium = await getSodium();
  const { seed, publicKey, keyId, secretKey } = await signingKeyFromSeed(toBase64Url(sodium.randombytes_buf(32)));
  sodium.memzero(secretKey);
  return { seed, publicKey, keyId };
}

/** The base64url signature of this decision by the key of `seed` (the CLI and tests sign with this). */
export async function signDecision(d: SignedDecision, seed: string): Promise<string> {
  const sodium = await getSodium();
  const key = await signingKeyFromSeed(seed);
  try {
    return toBase64Url(sodium.crypto_sign_detached(decisionMessage(d), key.secretKey));
  } finally {
    sodium.memzero(key.secretKey);
  }
}
