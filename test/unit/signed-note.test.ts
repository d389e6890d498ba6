import { describe, expect, it } from 'vitest';
import { logKeyFromSeed, noteKeyId, verifierKey } from '../../src/crypto/log-key.js';
import { parseVerifierKey, signNote, verifyNote } from '../../src/crypto/signed-note.js';

// The C2SP signed-note reference vectors (golang.org/x/mod/sumdb/note, note_test.go).
const SEED_B64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || seed, std base64
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIGNED = `${TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

const seed = Buffer.from(SEED_B64, 'base64').subarray(1).toString('base64url');

describe('C2SP signed notes', () => {
  it('derives the reference key id and verifier key', async () => {
    const key = await logKeyFromSeed('PeterNeumann', seed);
    expect(Buffer.from(key.keyId).toString('hex')).toBe('c74f20a3');
    expect(Buffer.from(noteKeyId('PeterNeumann', key.publicKey)).toString('hex')).toBe('c74f20a3');
    expect(verifierKey('PeterNeumann', key.publicKey)).toBe(VKEY);
  });

  it('signs the reference note byte for byte', async () => {
    const key = await logKeyFromSeed('PeterNeumann', seed);
    expect(signNote(TEXT, key)).toBe(SIGNED);
  });

  it('verifies the reference note and refuses any change to it', async () => {
    const verifier = parseVerifierKey(VKEY);
    expect(verifier).not.toBeNull();
    expect(await verifyNote(SIGNED, verifier!)).toEqual({ ok: true, text: TEXT });
    expect((await verifyNote(SIGNED.replace('answer', 'Answer'), verifier!)).ok).toBe(false);
    expect((await verifyNote(SIGNED.replace('x08go', 'x08gp'), verifier!)).ok).toBe(false);
    expect((await verifyNote(TEXT, verifier!)).ok).toBe(false);
  });

  it('refuses verifier keys whose id does not match their key', () => {
    expect(parseVerifierKey(VKEY.replace('c74f20a3', 'c74f20a4'))).toBeNull();
    expect(parseVerifierKey('PeterNeumann+c74f20a3')).toBeNull();
  });
});
