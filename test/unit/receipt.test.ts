import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentDigest } from '../../src/client/phone-client.js';
import { checkReceipt, ReceiptRejectedError } from '../../src/client/receipt.js';
import { logKeyFromSeed } from '../../src/crypto/log-key.js';
import { leafHash, nodeHash } from '../../src/crypto/merkle.js';
import { chunksRoot, receiptMessage, signReceipt } from '../../src/crypto/receipt.js';
import vectors from './crypto-vectors.json' with { type: 'json' };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The receipt format (SPEC "Upload integrity and receipts") and the phone's check of it. */
describe('upload receipts', async () => {
  const logKey = await logKeyFromSeed('visit-vault.test/audit', Buffer.alloc(32, 7).toString('base64url'));
  const otherKey = await logKeyFromSeed('visit-vault.test/audit', Buffer.alloc(32, 8).toString('base64url'));
  const hashes = ['chunk 0', 'chunk 1', 'chunk 2'].map(sha);
  const body = {
    recordingId: 'rec_0123456789abcdef0123456789abcdef',
    chunkCount: 3,
    chunksRoot: chunksRoot(hashes),
    sealedAt: '2026-11-24T10:30:00.000Z',
    retainUntil: '2026-12-01T10:30:00.000Z',
  };
  const receipt = signReceipt(logKey, body);
  const expected = { recordingId: body.recordingId, chunkSha256s: hashes, logPublicKey: logKey.publicKey };

  it('roots the chunk hashes as RFC 9162 does: leaf = SHA-256(0x00 || sha256), three leaves split 2 + 1', () => {
    const leaves = hashes.map((h) => leafHash(Buffer.from(h, 'hex')));
    expect(body.chunksRoot).toBe(hex(nodeHash(nodeHash(leaves[0]!, leaves[1]!), leaves[2]!)));
    expect(chunksRoot([hashes[0]!])).toBe(hex(leaves[0]!));
  });

  it('signs exactly the RFC 8785 JSON the SPEC names (keys sorted, no spaces)', () => {
    expect(receiptMessage(body).toString('utf8')).toBe(
      `{"chunkCount":3,"chunksRoot":"${body.chunksRoot}","recordingId":"${body.recordingId}",` +
        `"retainUntil":"2026-12-01T10:30:00.000Z","sealedAt":"2026-11-24T10:30:00.000Z","v":"visit-vault/receipt/v1"}`,
    );
    expect(receipt.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('accepts a receipt the log key signed over exactly the phone’s chunks', async () => {
    await expect(checkReceipt(receipt, expected)).resolves.toEqual(receipt);
  });

  const rejects = async (r: unknown, exp: typeof expected, reason: string) => {
    const err = await checkReceipt(r, exp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReceiptRejectedError);
    expect(err).toMatchObject({ reason });
  };

  it('refuses anything else, naming why', async () => {
    await rejects({ ...receipt, signature: signReceipt(otherKey, body).signature }, expected, 'signature');
    await rejects(receipt, { ...expected, logPublicKey: otherKey.publicKey }, 'signature');
    // A field changed after signing, with the root still matching the phone's chunks.
    await rejects({ ...receipt, retainUntil: '2026-11-25T10:30:00.000Z' }, expected, 'signature');
    await rejects({ ...receipt, sealedAt: '2026-11-24T10:31:00.000Z' }, expected, 'signature');
    // Signed, but not over what this phone sent.
    await rejects(receipt, { ...expected, chunkSha256s: [...hashes.slice(0, 2), sha('other')] }, 'chunks_root');
    await rejects(receipt, { ...expected, chunkSha256s: hashes.slice(0, 2) }, 'chunk_count');
    await rejects(receipt, { ...expected, recordingId: 'rec_other' }, 'other_recording');
    await rejects({ ...receipt, extra: 1 }, expected, 'malformed');
    await rejects({ ...receipt, chunkCount: '3' }, expected, 'malformed');
    await rejects(null, expected, 'malformed');
    await rejects({ ...receipt, signature: 'not base64url!' }, expected, 'signature');
  });

  it('known answer (README, "The phone\'s side"): the first two chunk vectors as one recording', async () => {
    const chunks = vectors.chunks.slice(0, 2).map((c) => Buffer.from(c.chunk, 'hex'));
    expect(chunks.map((c) => contentDigest(c))).toEqual([
      'sha-256=:sg66812UFhRNUgCfNGiIIUTfMr15NzvlWJMdO024bKk=:',
      'sha-256=:t9oU1pQC974JQQ5h01gsD+pp7rCV7S/fJ00/m2xn4hM=:',
    ]);
    const kat = {
      recordingId: 'rec_00000000000000000000000000000001',
      chunkCount: 2,
      chunksRoot: '30163d44c1ad8e39e58a7d7c29cea93f99ec81374c8728bd006643c168db75a4',
      sealedAt: '2026-11-24T11:00:00.000Z',
      retainUntil: '2026-12-01T11:00:00.000Z',
      signature: 'A6a-FQ9PCaY5FzZlH9yOxM08wttub4ZeMmBT6lM8-4n617nBv1FHSY1LbksSbW3yUgdHkvO4kvRMO_FUwj9JCw',
    };
    const sha256s = chunks.map((c) => createHash('sha256').update(c).digest('hex'));
    expect(chunksRoot(sha256s)).toBe(kat.chunksRoot);
    const key = await logKeyFromSeed('visit-vault.local/audit', Buffer.alloc(32, 7).toString('base64url'));
    expect(Buffer.from(key.publicKey).toString('base64url')).toBe('6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw');
    const { signature: _, ...body } = kat;
    expect(signReceipt(key, body)).toEqual(kat);
    await expect(
      checkReceipt(kat, { recordingId: kat.recordingId, chunkSha256s: sha256s, logPublicKey: key.publicKey }),
    ).resolves.toEqual(kat);
  });
});
