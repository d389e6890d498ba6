import { describe, expect, it } from 'vitest';
import {
  decisionMessage,
  decisionSignatureValid,
  parseSigningPublicKey,
  requestDigest,
  type SignedDecision,
  signDecision,
  signingKeyFromSeed,
  signingKeyId,
} from '../../src/crypto/decision-signature.js';
import { canonicalJson } from '../../src/json.js';
import vectors from '../vectors/decision-signature.json' with { type: 'json' };

/**
 * Signed sign-offs against known answers made independently (node:crypto, hand-written RFC 8785;
 * test/vectors/README.md): the vault must produce exactly these bytes, digest, key id and signatures.
 */
describe('signed sign-off vectors', () => {
  const signed = (d: (typeof vectors.decisions)[number]): SignedDecision => ({
    requestId: vectors.request.id,
    requestDigest: vectors.digest,
    decision: d.decision as SignedDecision['decision'],
    comment: d.comment,
    signerId: d.signerId,
  });

  it('canonicalises and digests the request as SPEC step 5 says', () => {
    expect(canonicalJson(vectors.request)).toBe(vectors.requestCanonical);
    expect(requestDigest(vectors.request)).toBe(vectors.digest);
  });

  it('derives the public key and key id from the seed', async () => {
    const key = await signingKeyFromSeed(vectors.seed);
    expect(key.publicKey).toBe(vectors.publicKey);
    expect(key.keyId).toBe(vectors.keyId);
    expect(signingKeyId(parseSigningPublicKey(vectors.publicKey)!)).toBe(vectors.keyId);
  });

  it.each(vectors.decisions.map((d) => [d.decision, d] as const))(
    'builds the %s message byte for byte and signs it deterministically',
    async (_, d) => {
      expect(decisionMessage(signed(d)).toString('utf8')).toBe(d.message);
      expect(decisionMessage(signed(d)).equals(Buffer.from(d.message, 'utf8'))).toBe(true);
      expect(await signDecision(signed(d), vectors.seed)).toBe(d.signature);
      expect(await decisionSignatureValid(signed(d), d.signature, vectors.publicKey)).toBe(true);
    },
  );

  it('refuses the signature when any signed field changes', async () => {
    const d = vectors.decisions[0]!;
    const base = signed(d);
    const changes: Partial<SignedDecision>[] = [
      { requestId: 'req_ffeeddccbbaa99887766554433221100' },
      { requestDigest: '0'.repeat(64) },
      { decision: 'reject' },
      { comment: `${d.comment}.` },
      { comment: ` ${d.comment}` },
      { signerId: 'someone-else' },
    ];
    for (const change of changes)
      expect(
        await decisionSignatureValid({ ...base, ...change }, d.signature, vectors.publicKey),
        JSON.stringify(change),
      ).toBe(false);
    const other = await signingKeyFromSeed(Buffer.alloc(32, 9).toString('base64url'));
    expect(await decisionSignatureValid(base, d.signature, other.publicKey)).toBe(false);
  });

  it('refuses malformed signatures and keys without throwing', async () => {
    const base = signed(vectors.decisions[0]!);
    for (const signature of [
      '',
      'not base64url!',
      vectors.decisions[0]!.signature.slice(0, -2),
      `${vectors.decisions[0]!.signature}AA`,
    ])
      expect(await decisionSignatureValid(base, signature, vectors.publicKey)).toBe(false);
    expect(await decisionSignatureValid(base, vectors.decisions[0]!.signature, 'AAAA')).toBe(false);
    expect(parseSigningPublicKey('AAAA')).toBeNull();
    expect(parseSigningPublicKey(`${vectors.publicKey}=`)).toBeNull();
  });
});
