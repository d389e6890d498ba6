import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64url, canonicalFlatJson, DECISION_VERSION, decisionBytes } from '../../console/canonical.js';
import { signDecision } from '../../console/signing.js';
import { decisionMessage, decisionSignatureValid } from '../../src/crypto/decision-signature.js';
import { canonicalBytes } from '../../src/json.js';

/** The console signs bytes it makes in the page; they must be the server's RFC 8785 bytes exactly. */
describe('console canonical JSON of a decision', () => {
  const payload = {
    requestId: 'req_0123456789abcdef0123456789abcdef',
    requestDigest: 'a'.repeat(64),
    decision: 'approve' as const,
    comment: 'ticket "CS-4711" checked\n\tä € 𝄞 \u0007 \u2028',
    signerId: 'head-hana',
  };

  it('is the server canonicalJson of { v, requestId, requestDigest, decision, comment, signerId }', () => {
    const server = canonicalBytes({ v: DECISION_VERSION, ...payload });
    expect(Buffer.from(decisionBytes(payload))).toEqual(server);
    expect(Buffer.from(decisionBytes(payload)).toString('utf8')).toBe(
      '{"comment":"ticket \\"CS-4711\\" checked\\n\\tä € 𝄞 \\u0007 \u2028","decision":"approve",' +
        `"requestDigest":"${'a'.repeat(64)}","requestId":"req_0123456789abcdef0123456789abcdef",` +
        '"signerId":"head-hana","v":"visit-vault/decision/v1"}',
    );
  });

  it('matches the server for any flat object of well-formed strings', () => {
    // Whole code points (astral ones included), so no lone surrogates: the edge refuses those before anything is signed.
    const anyText = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.dictionary(anyText, anyText, { maxKeys: 8 }), (object) => {
        expect(canonicalFlatJson(object)).toBe(canonicalBytes(object).toString('utf8'));
      }),
      { numRuns: 200 },
    );
  });

  it('writes base64url without padding, as the vault reads it', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xfe, 0x00, 0x01]);
    expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    expect(base64url(new Uint8Array(64).fill(0xff))).toBe(Buffer.alloc(64, 0xff).toString('base64url'));
  });
});

describe('console signature', () => {
  it('is a signature the vault verifies, made by a non-extractable WebCrypto key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = base64url(await crypto.subtle.exportKey('raw', pair.publicKey));
    const key = { principalId: 'head-hana', privateKey: pair.privateKey, publicKey, keyId: null };
    const decision = {
      requestId: 'req_0123456789abcdef0123456789abcdef',
      requestDigest: 'b'.repeat(64),
      decision: 'approve' as const,
      comment: 'ticket checked — ok',
      signerId: 'head-hana',
    };
    const signature = await signDecision(key, decision);
    expect(Buffer.from(decisionBytes(decision))).toEqual(decisionMessage(decision));
    expect(await decisionSignatureValid(decision, signature, publicKey)).toBe(true);
    expect(await decisionSignatureValid({ ...decision, decision: 'reject' }, signature, publicKey)).toBe(false);
  });
});
