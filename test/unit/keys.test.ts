import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyIntegrityError, KeyUnavailableError } from '../../src/crypto/errors.js';
import { KeyringError, loadOrCreateKeyring, parseKeks } from '../../src/crypto/keyring.js';
import {
  createOrderKeys,
  openSealedContentKey,
  SEALED_CONTENT_KEY_BYTES,
  unwrapOrderSecretKey,
  wrapSecretKey,
} from '../../src/crypto/order-keys.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import vectors from './crypto-vectors.json' with { type: 'json' };

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const kekText = (version: number, fill: number) => `${version}:${toBase64Url(new Uint8Array(32).fill(fill))}`;

beforeAll(async () => {
  await getSodium();
});

describe('base64url', () => {
  it('round-trips without padding and rejects anything else', () => {
    const b = new Uint8Array([250, 251, 252, 253]);
    expect(toBase64Url(b)).toBe('-vv8_Q');
    expect(fromBase64Url('-vv8_Q')).toEqual(b);
    for (const bad of ['-vv8_Q==', '+vv8/Q', 'a', '-vv8_R', 'ab$c']) expect(fromBase64Url(bad)).toBeNull();
  });
});

describe('parseKeks', () => {
  it('takes the last entry as current and keeps every version', () => {
    const ring = parseKeks(`${kekText(1, 1)}, ${kekText(2, 2)}`);
    expect(ring.current.version).toBe(2);
    expect(ring.versions()).toEqual([1, 2]);
    expect(ring.get(1)).toEqual(new Uint8Array(32).fill(1));
    expect(ring.get(3)).toBeUndefined();
  });

  it.each([
    ['', /no key/],
    ['1', /not version:base64url-key/],
    [`0:${toBase64Url(new Uint8Array(32))}`, /positive/],
    [`${kekText(1, 1)},${kekText(1, 2)}`, /twice/],
    [`1:${toBase64Url(new Uint8Array(16).fill(9))}`, /32 bytes/],
    ['1:not*base64', /32 bytes/],
  ])('rejects %j without echoing key bytes', (text, message) => {
    try {
      parseKeks(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(KeyringError);
      expect(String(err)).toMatch(message);
      const secret = text.split(':')[1];
      if (secret && secret.length > 8) expect(String(err)).not.toContain(secret);
    }
  });
});

describe('loadOrCreateKeyring', () => {
  it('generates one KEK into the data dir with mode 0600, warns, and reuses it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kek-'));
    try {
      const warnings: string[] = [];
      const a = await loadOrCreateKeyring({ dataDir: dir, warn: (m) => warnings.push(m) });
      const b = await loadOrCreateKeyring({ dataDir: dir, warn: (m) => warnings.push(m) });
      expect(b.current.key).toEqual(a.current.key);
      expect(a.current.version).toBe(1);
      expect((await stat(path.join(dir, 'kek'))).mode & 0o777).toBe(0o600);
      expect(warnings[0]).toMatch(/VAULT_KEKS/);
      const file = await readFile(path.join(dir, 'kek'), 'utf8');
      for (const w of warnings) expect(w).not.toContain(file.trim().split(':')[1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prefers VAULT_KEKS and writes nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kek-'));
    try {
      const ring = await loadOrCreateKeyring({ keks: kekText(7, 7), dataDir: dir, warn: () => expect.unreachable() });
      expect(ring.current.version).toBe(7);
      await expect(stat(path.join(dir, 'kek'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('order keys', () => {
  it('matches the wrap known-answer vector', () => {
    const v = vectors.wraps[0]!;
    const ring = parseKeks(`${v.kekVersion}:${toBase64Url(fromHex(v.kek))}`);
    const w = wrapSecretKey(ring, v.orderId, fromHex(v.secretKey), fromHex(v.nonce));
    expect(Buffer.from(w.wrappedSecretKey).toString('hex')).toBe(v.wrapped);
    expect(
      unwrapOrderSecretKey(ring, {
        orderId: v.orderId,
        kekVersion: v.kekVersion,
        wrappedSecretKey: fromHex(v.wrapped),
      }),
    ).toEqual(fromHex(v.secretKey));
  });

  it('binds the wrap to the order id and the KEK version', () => {
    const ring = parseKeks(`${kekText(1, 1)},${kekText(2, 2)}`);
    const keys = createOrderKeys(ring, 'order-a');
    expect(keys.kekVersion).toBe(2);
    expect(() =>
      unwrapOrderSecretKey(ring, { orderId: 'order-b', kekVersion: 2, wrappedSecretKey: keys.wrappedSecretKey }),
    ).toThrow(KeyIntegrityError);
    expect(() =>
      unwrapOrderSecretKey(ring, { orderId: 'order-a', kekVersion: 1, wrappedSecretKey: keys.wrappedSecretKey }),
    ).toThrow(KeyIntegrityError);
    expect(() =>
      unwrapOrderSecretKey(ring, { orderId: 'order-a', kekVersion: 9, wrappedSecretKey: keys.wrappedSecretKey }),
    ).toThrow(KeyUnavailableError);
    const tampered = new Uint8Array(keys.wrappedSecretKey);
    tampered[30] = (tampered[30] ?? 0) ^ 1;
    expect(() => unwrapOrderSecretKey(ring, { orderId: 'order-a', kekVersion: 2, wrappedSecretKey: tampered })).toThrow(
      KeyIntegrityError,
    );
  });

  it('opens a sealed content key with the order key pair only', async () => {
    const sodium = await getSodium();
    const ring = parseKeks(kekText(1, 1));
    const keys = createOrderKeys(ring, 'order-s');
    const contentKey = sodium.randombytes_buf(32);
    const sealed = sodium.crypto_box_seal(contentKey, keys.publicKey);
    expect(sealed.length).toBe(SEALED_CONTENT_KEY_BYTES);
    const secretKey = unwrapOrderSecretKey(ring, { orderId: 'order-s', ...keys });
    expect(openSealedContentKey({ sealedContentKey: sealed, publicKey: keys.publicKey, secretKey })).toEqual(
      contentKey,
    );
    const other = createOrderKeys(ring, 'order-t');
    const otherSecret = unwrapOrderSecretKey(ring, { orderId: 'order-t', ...other });
    expect(() =>
      openSealedContentKey({ sealedContentKey: sealed, publicKey: other.publicKey, secretKey: otherSecret }),
    ).toThrow(KeyIntegrityError);
  });
});
