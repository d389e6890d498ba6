import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fromBase64Url, getSodium, toBase64Url } from './sodium.js';

/** Key-encryption keys by version; the newest (`current`) wraps new order keys. */
export interface Keyring {
  current: { version: number; key: Uint8Array };
  get(version: number): Uint8Array | undefined;
  versions(): number[];
}

export const KEK_BYTES = 32;

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** Parses `version:base64url-key` pairs, comma-separated; the last one is current. */
export function parseKeks(text: string): Keyring {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) throw new KeyringError('VAULT_KEKS names no key');
  const keys = new Map<number, Uint8Array>();
  let current: { version: number; key: Uint8Array } | undefined;
  entries.forEach((entry, i) => {
    const m = /^(\d{1,9}):(.+)$/.exec(entry);
    if (!m) throw new KeyringError(`VAULT_KEKS entry ${i + 1} is not version:base64url-key`);
    const version = Number(m[1]);
    if (version < 1) throw new KeyringError(`VAULT_KEKS entry ${i + 1}: version must be a positive integer`);
    if (keys.has(version)) throw new KeyringError(`VAULT_KEKS names version ${version} twice`);
    const key = fromBase64Url(m[2] ?? '');
    if (!key || key.length !== KEK_BYTES)
      throw new KeyringError(
        `VAULT_KEKS version ${version}: key must be ${KEK_BYTES} bytes of base64url without padding`,
      );
    keys.set(version, key);
    current = { version, key };
  });
  if (!current) throw new KeyringError('VAULT_KEKS names no key');
  const cur = current;
  return {
    current: cur,
    get: (version) => keys.get(version),
    versions: () => [...keys.keys()].sort((a, b) => a - b),
  };
}

/** `version:key` text for one new random KEK (the CLI's `keys generate`). */
export async function generateKekEntry(version: number): Promise<string> {
  const sodium = await getSodium();
  return `${version}:${toBase64Url(sodium.randombytes_buf(KEK_BYTES))}`;
}

/**
 * The configured keyring, or — for the embedded default only — one KEK
 * generated once into `<dataDir>/kek` (mode 0600), with a warning.
 */
export async function loadOrCreateKeyring(options: {
  keks?: string;
  dataDir: string;
  warn(message: string): void;
}): Promise<Keyring> {
  if (options.keks) return parseKeks(options.keks);
  const file = path.join(options.dataDir, 'kek');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(options.dataDir, { recursive: true });
    text = await generateKekEntry(1);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${text}\n`, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  }
  await chmod(file, 0o600);
  options.warn(
    `VAULT_KEKS is not set: using the KEK generated in ${file}. Production must set VAULT_KEKS and keep the KEK outside the data directory.`,
  );
  return parseKeks(text.trim());
}
