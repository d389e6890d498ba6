import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fromBase64Url, getSodium, toBase64Url } from './sodium.js';

/**
 * @module
 * The audit log's Ed25519 key. It signs checkpoints (C2SP signed notes),
 * upload receipts and shred receipts; anyone holding the public key verifies
 * them offline. The secret never leaves this module's closure and is never
 * logged.
 *
 * Key id (C2SP signed-note, Ed25519): the first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || public key), the name being the log origin.
 */
export const ED25519_ALG = 0x01;

export interface LogKey {
  /** the log's origin, which is also the signed note's key name */
  origin: string;
  publicKey: Uint8Array;
  /** 4 bytes */
  keyId: Uint8Array;
  /** A detached Ed25519 signature (64 bytes) over the message. */
  sign(message: Uint8Array): Uint8Array;
}

export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_ALG]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The C2SP verifier key text: `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  const id = Buffer.from(noteKeyId(name, publicKey)).toString('hex');
  return `${name}+${id}+${Buffer.concat([Buffer.from([ED25519_ALG]), publicKey]).toString('base64')}`;
}

export class LogKeyError extends Error {
  override name = 'LogKeyError';
}

/** The log key from a base64url 32-byte seed. */
export async function logKeyFromSeed(origin: string, seedText: string): Promise<LogKey> {
  const seed = fromBase64Url(seedText);
  if (seed?.length !== 32) throw new LogKeyError('VAULT_LOG_SIGNING_KEY must be a 32-byte seed, base64url');
  const sodium = await getSodium();
  const { publicKey, privateKey } = sodium.crypto_sign_seed_keypair(seed);
  sodium.memzero(seed);
  return {
    origin,
    publicKey,
    keyId: noteKeyId(origin, publicKey),
    sign: (message) => sodium.crypto_sign_detached(message, privateKey),
  };
}

/** A fresh random seed, base64url (the CLI's `keys log-keygen`). */
export async function generateLogSeed(): Promise<string> {
  const sodium = await getSodium();
  return toBase64Url(sodium.randombytes_buf(32));
}

/**
 * The configured log key, or — for the embedded default only — one generated
 * once into `<dataDir>/log-signing-key` (mode 0600), with a warning.
 */
export async function loadOrCreateLogKey(options: {
  origin: string;
  seed?: string;
  dataDir: string;
  warn(message: string): void;
}): Promise<LogKey> {
  if (options.seed) return logKeyFromSeed(options.origin, options.seed);
  const file = path.join(options.dataDir, 'log-signing-key');
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(options.dataDir, { recursive: true });
    text = await generateLogSeed();
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${text}\n`, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  }
  await chmod(file, 0o600);
  options.warn(
    `VAULT_LOG_SIGNING_KEY is not set: using the log key generated in ${file}. Production sets VAULT_LOG_SIGNING_KEY from a secrets manager.`,
  );
  return logKeyFromSeed(options.origin, text);
}

/** Verifies a detached Ed25519 signature; false (never a throw) for malformed input. */
export async function verifyEd25519(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const sodium = await getSodium();
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}
