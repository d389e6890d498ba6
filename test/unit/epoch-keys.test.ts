import canonicalize from 'canonicalize';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateEpochKey,
  rewrapEpochKey,
  unwrapEpochKey,
  unwrapOrderKeyUnderEpoch,
  wrapEpochKey,
  wrapOrderKeyUnderEpoch,
} from '../../src/crypto/epoch-keys.js';
import { KeyIntegrityError, KeyUnavailableError } from '../../src/crypto/errors.js';
import { parseKeks } from '../../src/crypto/keyring.js';
import { logKeyFromSeed } from '../../src/crypto/log-key.js';
import { getSodium, type Sodium, toBase64Url } from '../../src/crypto/sodium.js';
import { SHRED_RECEIPT_V, signShredReceipt, verifyShredReceipt } from '../../src/domain/shred-receipts.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await getSodium();
});

const kek = (version: number, fill: number) => `${version}:${toBase64Url(new Uint8Array(32).fill(fill))}`;
const EPOCH = '2026-03-17T00:00:00.000Z';

describe('epoch key wrap (KEK)', () => {
  it('round-trips under the current KEK, in exactly the documented format', () => {
    const ring = parseKeks(`${kek(1, 1)},${kek(2, 2)}`);
    const key = generateEpochKey();
    const nonce = new Uint8Array(24).fill(5);
    const w = wrapEpochKey(ring, EPOCH, key, nonce);
    expect(w).toMatchObject({ epoch: EPOCH, kekVersion: 2 });
    expect(unwrapEpochKey(ring, w)).toEqual(key);
    // Recomputed from the documented format alone: nonce || XChaCha20-Poly1305(key, AAD "visit-vault/epoch-key/v1|epoch|version").
    const expected = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      key,
      `visit-vault/epoch-key/v1|${EPOCH}|2`,
      null,
      nonce,
      new Uint8Array(32).fill(2),
    );
    expect(Buffer.from(w.wrappedKey)).toEqual(Buffer.concat([nonce, expected]));
  });

  it('does not open under another epoch, another KEK version, or tampered', () => {
    const ring = parseKeks(`${kek(1, 1)},${kek(2, 2)}`);
    const w = wrapEpochKey(ring, EPOCH, generateEpochKey());
    expect(() => unwrapEpochKey(ring, { ...w, epoch: '2026-03-18T00:00:00.000Z' })).toThrow(KeyIntegrityError);
    expect(() => unwrapEpochKey(ring, { ...w, kekVersion: 1 })).toThrow(KeyIntegrityError);
    expect(() => unwrapEpochKey(ring, { ...w, kekVersion: 9 })).toThrow(KeyUnavailableError);
    const tampered = w.wrappedKey.slice();
    tampered[30] = (tampered[30] ?? 0) ^ 1;
    expect(() => unwrapEpochKey(ring, { ...w, wrappedKey: tampered })).toThrow(KeyIntegrityError);
    expect(() => unwrapEpochKey(ring, { ...w, wrappedKey: w.wrappedKey.subarray(0, 24) })).toThrow(/truncated/);
  });

  it('rewraps the same key under the new KEK, which then opens without the old one', () => {
    const key = generateEpochKey();
    const old = wrapEpochKey(parseKeks(kek(1, 1)), EPOCH, key);
    const rewrapped = rewrapEpochKey(parseKeks(`${kek(1, 1)},${kek(2, 2)}`), old);
    expect(rewrapped.kekVersion).toBe(2);
    expect(unwrapEpochKey(parseKeks(kek(2, 2)), rewrapped)).toEqual(key);
  });
});

describe('order key under an epoch key', () => {
  it('binds the order id and the epoch (AAD "visit-vault/order-key/v2|order|epoch")', () => {
    const epochKey = generateEpochKey();
    const pair = sodium.crypto_box_keypair();
    const nonce = new Uint8Array(24).fill(9);
    const wrapped = wrapOrderKeyUnderEpoch({ id: EPOCH, key: epochKey }, 'ord-1', pair.privateKey, nonce);
    const expected = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      pair.privateKey,
      `visit-vault/order-key/v2|ord-1|${EPOCH}`,
      null,
      nonce,
      epochKey,
    );
    expect(Buffer.from(wrapped)).toEqual(Buffer.concat([nonce, expected]));
    expect(unwrapOrderKeyUnderEpoch({ id: EPOCH, key: epochKey }, 'ord-1', wrapped)).toEqual(pair.privateKey);
    expect(() => unwrapOrderKeyUnderEpoch({ id: EPOCH, key: epochKey }, 'ord-2', wrapped)).toThrow(KeyIntegrityError);
    expect(() => unwrapOrderKeyUnderEpoch({ id: '2026-03-18T00:00:00.000Z', key: epochKey }, 'ord-1', wrapped)).toThrow(
      KeyIntegrityError,
    );
    expect(() => unwrapOrderKeyUnderEpoch({ id: EPOCH, key: generateEpochKey() }, 'ord-1', wrapped)).toThrow(
      KeyIntegrityError,
    );
  });
});

describe('shred receipts', () => {
  it('signs the canonical JSON SPEC names, which an independent verifier recomputes', async () => {
    const logKey = await logKeyFromSeed('vault.test/log', toBase64Url(new Uint8Array(32).fill(3)));
    const receipt = signShredReceipt(logKey, {
      epoch: EPOCH,
      orders: ['ord-a', 'ord-b'],
      destroyedAt: '2026-04-22T00:00:00.000Z',
    });
    // Independently: RFC 8785 text of { v, epoch, orders, destroyedAt }, Ed25519, base64url.
    const text = canonicalize({
      destroyedAt: '2026-04-22T00:00:00.000Z',
      orders: ['ord-a', 'ord-b'],
      v: 'visit-vault/shred/v1',
      epoch: EPOCH,
    });
    expect(text).toBe(
      `{"destroyedAt":"2026-04-22T00:00:00.000Z","epoch":"${EPOCH}","orders":["ord-a","ord-b"],"v":"${SHRED_RECEIPT_V}"}`,
    );
    expect(
      sodium.crypto_sign_verify_detached(
        Buffer.from(receipt.signature, 'base64url'),
        Buffer.from(text!, 'utf8'),
        logKey.publicKey,
      ),
    ).toBe(true);
    expect(await verifyShredReceipt(logKey.publicKey, receipt)).toBe(true);
    expect(await verifyShredReceipt(logKey.publicKey, { ...receipt, orders: ['ord-a'] })).toBe(false);
    expect(await verifyShredReceipt(logKey.publicKey, { ...receipt, epoch: '2026-03-18T00:00:00.000Z' })).toBe(false);
    expect(await verifyShredReceipt(logKey.publicKey, { ...receipt, signature: 'not base64url!' })).toBe(false);
  });
});
