import { createHash } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { contentDigest, PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { verifyEd25519 } from '../../src/crypto/log-key.js';
import { leafHash, rootOfLeaves } from '../../src/crypto/merkle.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { canonicalBytes } from '../../src/json.js';
import { listRecordingsOfOrder } from '../../src/store/db/recordings.js';
import { bearer, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { startFlakyHttpProxy } from '../helpers/proxies.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** SPEC "Upload integrity and receipts", through HTTP. */
describe.each(STORE_PAIRS)('upload integrity on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  async function start(visit: Visit, headers: Record<string, string> = {}, mimeType = 'audio/ogg; codecs=opus') {
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const sealedContentKey = toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(visit.publicKey)!));
    const res = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .set(headers)
      .send({ sealedContentKey, mimeType });
    return { res, contentKey, sealedContentKey, recordingId: res.body.recordingId as string };
  }

  const put = (visit: Visit, recordingId: string, seq: number, body: Uint8Array, digest?: string) => {
    const r = request(vault.server)
      .put(`/v1/recordings/${recordingId}/chunks/${seq}`)
      .set(bearer(visit.beauticianToken))
      .set('content-type', 'application/octet-stream');
    return (digest === undefined ? r : r.set('content-digest', digest)).send(Buffer.from(body));
  };
  const uploadState = (visit: Visit, recordingId: string) =>
    request(vault.server).get(`/v1/recordings/${recordingId}/upload-state`).set(bearer(visit.beauticianToken));
  const complete = (visit: Visit, recordingId: string, chunkCount: number) =>
    request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount });
  const auditOf = async (orderId: string) =>
    (await listAudit(vault.deps.db, { orderId, limit: 1000 })).entries.filter((e) => e.action === 'chunk.refused');

  describe('Content-Digest', () => {
    it('refuses a chunk whose body changed after its digest was computed: 400, nothing stored, audited; the right one then goes in', async () => {
      const visit = await newVisit(vault);
      const { recordingId, contentKey } = await start(visit);
      const chunk = encryptChunk({ contentKey, recordingId, seq: 0, final: false, plaintext: fakeAudio(2000, 3) });
      const digest = contentDigest(chunk);
      const changed = Buffer.from(chunk);
      changed[100] = changed[100]! ^ 0x01;

      const refused = await put(visit, recordingId, 0, changed, digest);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'digest_mismatch', field: 'content-digest' });
      // Nothing stored: no row, no object.
      expect((await uploadState(visit, recordingId)).body).toMatchObject({ storedSeqs: [], chunks: [] });
      expect(await vault.deps.blobs.list(`recordings/${recordingId}/`)).toEqual([]);
      const [entry, ...more] = await auditOf(visit.orderId);
      expect(more).toEqual([]);
      expect(entry).toMatchObject({
        outcome: 'refused',
        recordingId,
        details: {
          seq: 0,
          code: 'digest_mismatch',
          receivedSha256: sha256(changed).toString('hex'),
          claimedSha256: sha256(chunk).toString('hex'),
        },
      });

      const stored = await put(visit, recordingId, 0, chunk, digest);
      expect(stored.status).toBe(201);
      expect(stored.body).toMatchObject({ outcome: 'stored', sha256: sha256(chunk).toString('hex') });
      // A damaged resend of a stored seq is still a damaged body (400, resend), not a conflicting one (409).
      expect((await put(visit, recordingId, 0, changed, digest)).body.error.code).toBe('digest_mismatch');
      expect((await put(visit, recordingId, 0, chunk, digest)).status).toBe(200);
      expect(await vault.deps.blobs.list(`recordings/${recordingId}/`)).toHaveLength(1);
    });

    it('reads the header as an RFC 9530 dictionary: other algorithms ignored, parameters allowed, anything malformed a 400', async () => {
      const visit = await newVisit(vault);
      const { recordingId, contentKey } = await start(visit);
      const chunks = [0, 1, 2, 3].map((seq) =>
        encryptChunk({ contentKey, recordingId, seq, final: false, plaintext: fakeAudio(300, seq + 10) }),
      );
      const b64 = (b: Uint8Array) => sha256(b).toString('base64');
      const wrong512 = `sha-512=:${Buffer.alloc(64, 1).toString('base64')}:`;
      for (const header of [
        `sha-256=:${b64(chunks[0]!)}:`.replace('sha-256', 'SHA-256'), // keys are lower case
        `sha-256=${sha256(chunks[0]!).toString('hex')}`, // a token, not a byte sequence
        `sha-256=:${Buffer.from('abc').toString('base64')}:`, // not 32 bytes
        `sha-256=(:${b64(chunks[0]!)}:)`, // an inner list
        'sha-256=:not base64!:',
        `sha-256=:${b64(chunks[0]!)}:,`, // trailing comma
      ]) {
        const res = await put(visit, recordingId, 0, chunks[0]!, header);
        expect(res.status, header).toBe(400);
        expect(res.body.error, header).toMatchObject({ code: 'invalid_content_digest', field: 'content-digest' });
      }
      expect((await uploadState(visit, recordingId)).body.storedSeqs).toEqual([]);

      // Only sha-512 (the vault checks sha-256 only): taken as no digest.
      expect((await put(visit, recordingId, 0, chunks[0]!, wrong512)).status).toBe(201);
      expect((await put(visit, recordingId, 1, chunks[1]!, `${wrong512}, sha-256=:${b64(chunks[1]!)}:`)).status).toBe(
        201,
      );
      expect((await put(visit, recordingId, 2, chunks[2]!, `sha-256=:${b64(chunks[2]!)}:;note="x"`)).status).toBe(201);
      // A mismatching sha-256 beside other members is still a mismatch.
      const res = await put(visit, recordingId, 3, chunks[3]!, `${wrong512}, sha-256=:${b64(chunks[0]!)}:`);
      expect(res.body.error.code).toBe('digest_mismatch');
      // Without a header the chunk is stored as before (the header is optional).
      expect((await put(visit, recordingId, 3, chunks[3]!)).status).toBe(201);
    });

    it('a flaky proxy corrupting chunks in flight: every corrupted one refused and resent, the recording still completes', async () => {
      const visit = await newVisit(vault);
      const proxy = await startFlakyHttpProxy(vault.baseUrl, {
        fraction: 0.3,
        modes: ['corrupt'],
        seed: 7,
        only: (req) => req.method === 'PUT',
      });
      try {
        let refusals = 0;
        const counting: typeof fetch = async (input, init) => {
          const res = await fetch(input, init);
          if (res.status === 400) refusals++;
          return res;
        };
        const phone = new PhoneClient({
          baseUrl: proxy.endpoint,
          token: visit.beauticianToken,
          fetch: counting,
          retry: { attempts: 20, baseDelayMs: 1, maxDelayMs: 5 },
          logPublicKey: vault.deps.logKey.publicKey,
        });
        const upload = await phone.startRecording({
          orderId: visit.orderId,
          orderPublicKey: visit.publicKey,
          mimeType: 'audio/ogg',
        });
        const chunks = upload.encrypt(splitIntoChunks(fakeAudio(40 * 1024, 5), 1024));
        await upload.forgetKey();
        await upload.uploadMissing(chunks, 1);
        const { receipt, safeToDelete } = await upload.finish(chunks);

        expect(proxy.corrupted()).toBeGreaterThan(5);
        expect(refusals).toBe(proxy.corrupted());
        const refused = await auditOf(visit.orderId);
        expect(refused).toHaveLength(proxy.corrupted());
        expect(refused.every((e) => e.details.code === 'digest_mismatch')).toBe(true);
        // What the vault holds is exactly what the phone encrypted.
        const state = (await uploadState(visit, upload.recordingId)).body;
        expect(state.chunks.map((c: { sha256: string }) => c.sha256)).toEqual(
          chunks.map((c) => sha256(c.bytes).toString('hex')),
        );
        expect(safeToDelete).toBe(true);
        expect(receipt.chunkCount).toBe(chunks.length);
      } finally {
        await proxy.close();
      }
    });
  });

  it('upload-state lists seq, size and sha256 and says when the recording goes incomplete without more chunks', async () => {
    const visit = await newVisit(vault);
    const { recordingId, contentKey } = await start(visit);
    const startedAt = vault.clock.now().getTime();
    const incompleteAfter = vault.config.incompleteAfterMs;
    let state = (await uploadState(visit, recordingId)).body;
    expect(state).toEqual({
      recordingId,
      status: 'recording',
      storedSeqs: [],
      chunks: [],
      incompleteAt: new Date(startedAt + incompleteAfter).toISOString(),
    });

    vault.clock.advance(HOUR);
    const chunks = [0, 1].map((seq) =>
      encryptChunk({ contentKey, recordingId, seq, final: seq === 1, plaintext: fakeAudio(500 + seq, seq) }),
    );
    await put(visit, recordingId, 1, chunks[1]!, contentDigest(chunks[1]!));
    state = (await uploadState(visit, recordingId)).body;
    expect(state).toEqual({
      recordingId,
      status: 'recording',
      storedSeqs: [1],
      chunks: [{ seq: 1, size: chunks[1]!.length, sha256: sha256(chunks[1]!).toString('hex') }],
      incompleteAt: new Date(startedAt + HOUR + incompleteAfter).toISOString(),
    });

    // Nothing more arrives: at incompleteAt the sweeper closes it, and upload-state then says when it did.
    vault.clock.advance(incompleteAfter);
    expect((await runSweep(vault.deps)).incomplete).toBeGreaterThanOrEqual(1);
    state = (await uploadState(visit, recordingId)).body;
    expect(state).toMatchObject({ status: 'incomplete', incompleteAt: vault.clock.now().toISOString() });
  });

  describe('Idempotency-Key on start', () => {
    it('a start retried with the same key after its answer was lost makes one recording', async () => {
      const visit = await newVisit(vault);
      const sent: { key: string | null; status: number }[] = [];
      let lose = true;
      const losing: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/recordings')) {
          sent.push({ key: new Headers(init.headers).get('idempotency-key'), status: res.status });
          // The vault made the recording; the phone never hears about it.
          if (lose) {
            lose = false;
            throw new TypeError('fetch failed');
          }
        }
        return res;
      };
      const phone = new PhoneClient({
        baseUrl: vault.baseUrl,
        token: visit.beauticianToken,
        fetch: losing,
        retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      });
      const upload = await phone.startRecording({
        orderId: visit.orderId,
        orderPublicKey: visit.publicKey,
        mimeType: 'audio/ogg',
      });
      expect(sent.map((s) => s.status)).toEqual([201, 200]);
      expect(sent[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent[1]!.key).toBe(sent[0]!.key);
      const rows = await listRecordingsOfOrder(vault.deps.db, visit.orderId);
      expect(rows.map((r) => r.id)).toEqual([upload.recordingId]);
      // The recording the phone got is usable: the content key it kept opens it.
      const chunks = upload.encrypt([fakeAudio(100, 1)]);
      await upload.uploadMissing(chunks);
      expect((await upload.complete(1)).status).toBe('sealed');
      const audit = (await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 100 })).entries;
      expect(audit.filter((e) => e.action === 'recording.started')).toHaveLength(1);
      expect(audit.filter((e) => e.action === 'recording.start_replayed')).toHaveLength(1);
    });

    it('same key and body → the same recording (200) for 24 hours; another body → 409; another principal or a day later → new', async () => {
      const visit = await newVisit(vault);
      const first = await start(visit, { 'idempotency-key': 'visit-7-start' });
      expect(first.res.status).toBe(201);
      const again = await request(vault.server)
        .post(`/v1/orders/${visit.orderId}/recordings`)
        .set(bearer(visit.beauticianToken))
        .set('idempotency-key', '"visit-7-start"') // the draft's quoted form is the same key
        .send({ sealedContentKey: first.sealedContentKey, mimeType: 'audio/ogg; codecs=opus' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.res.body);

      const otherBody = await start(visit, { 'idempotency-key': 'visit-7-start' });
      expect(otherBody.res.status).toBe(409);
      expect(otherBody.res.body.error.code).toBe('idempotency_key_reused');
      const otherMime = await request(vault.server)
        .post(`/v1/orders/${visit.orderId}/recordings`)
        .set(bearer(visit.beauticianToken))
        .set('idempotency-key', 'visit-7-start')
        .send({ sealedContentKey: first.sealedContentKey, mimeType: 'audio/wav' });
      expect(otherMime.status).toBe(409);

      // Keys are per principal: another beautician's own start with the same key is its own.
      const stranger = await newVisit(vault);
      expect((await start(stranger, { 'idempotency-key': 'visit-7-start' })).res.status).toBe(201);

      vault.clock.advance(24 * HOUR + 1000);
      const later = await request(vault.server)
        .post(`/v1/orders/${visit.orderId}/recordings`)
        .set(bearer(visit.beauticianToken))
        .set('idempotency-key', 'visit-7-start')
        .send({ sealedContentKey: first.sealedContentKey, mimeType: 'audio/ogg; codecs=opus' });
      expect(later.status).toBe(201);
      expect(later.body.recordingId).not.toBe(first.recordingId);
      expect(await listRecordingsOfOrder(vault.deps.db, visit.orderId)).toHaveLength(2);

      for (const bad of ['two keys, really', 'a'.repeat(256), '"unterminated', '"x"; p=1, "y"', 'caf\u00e9']) {
        const res = await start(visit, { 'idempotency-key': bad });
        expect(res.res.status, bad).toBe(400);
        expect(res.res.body.error.field, bad).toBe('idempotency-key');
      }
      expect(await listRecordingsOfOrder(vault.deps.db, visit.orderId)).toHaveLength(2);
    });
  });

  describe('receipt', () => {
    it('complete answers the log key’s signature over the Merkle root of the chunks; a retry answers the same receipt', async () => {
      const visit = await newVisit(vault);
      const { recordingId, contentKey } = await start(visit);
      const n = 5;
      const chunks = Array.from({ length: n }, (_, seq) =>
        encryptChunk({ contentKey, recordingId, seq, final: seq === n - 1, plaintext: fakeAudio(700 + seq, seq) }),
      );
      for (const [seq, c] of chunks.entries()) expect((await put(visit, recordingId, seq, c)).status).toBe(201);
      const done = await complete(visit, recordingId, n);
      expect(done.status).toBe(200);
      const sealedAt = vault.clock.now();
      const retainUntil = new Date(sealedAt.getTime() + vault.config.retentionMs);
      // Computed here from the chunks this test kept, independently of the vault's code path.
      const root = rootOfLeaves(chunks.map((c) => leafHash(sha256(c)))).toString('hex');
      const { receipt } = done.body;
      expect(receipt).toEqual({
        recordingId,
        chunkCount: n,
        chunksRoot: root,
        sealedAt: sealedAt.toISOString(),
        retainUntil: retainUntil.toISOString(),
        signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
      });
      expect(done.body).toMatchObject({ status: 'sealed', chunkCount: n, retainUntil: receipt.retainUntil });
      const signed = canonicalBytes({
        v: 'visit-vault/receipt/v1',
        recordingId,
        chunkCount: n,
        chunksRoot: root,
        sealedAt: receipt.sealedAt,
        retainUntil: receipt.retainUntil,
      });
      const signature = fromBase64Url(receipt.signature)!;
      expect(await verifyEd25519(signature, signed, vault.deps.logKey.publicKey)).toBe(true);
      const forged = canonicalBytes({ ...JSON.parse(signed.toString()), chunkCount: n - 1 });
      expect(await verifyEd25519(signature, forged, vault.deps.logKey.publicKey)).toBe(false);

      vault.clock.advance(HOUR);
      const retried = await complete(visit, recordingId, n);
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual(done.body);
      // The receipt is kept, not re-made: it survives even a change to the row's retention (a hold's work, say).
      await vault.deps.db.query("UPDATE recordings SET retain_until = retain_until + interval '1 day' WHERE id = $1", [
        recordingId,
      ]);
      expect((await complete(visit, recordingId, n)).body.receipt).toEqual(receipt);
      expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
    });
  });
});
