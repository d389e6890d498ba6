import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { PhoneClient, type RecordingUpload, splitIntoChunks } from '../../src/client/phone-client.js';
import { bearer, consent, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;

/** SPEC step 2: an objection that arrives while a recording is under way stops it. */
describe.each(STORE_PAIRS)('an objection during a recording on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  async function recordingUnderWay(visit: Visit, uploaded: number) {
    const phone = new PhoneClient({
      baseUrl: vault.baseUrl,
      token: visit.beauticianToken,
      retry: { attempts: 1 },
      logPublicKey: vault.deps.logKey.publicKey,
    });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const audio = fakeAudio(6 * 1000, 9);
    const chunks = upload.encrypt(splitIntoChunks(audio, 1000));
    await upload.forgetKey();
    for (const c of chunks.slice(0, uploaded)) await upload.uploadChunk(c);
    return { upload, chunks, audio };
  }
  const listAs = (token: string, orderId: string) =>
    request(vault.server).get(`/v1/orders/${orderId}/recordings`).set(bearer(token));
  const startAgain = (visit: Visit, upload: RecordingUpload) =>
    new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken, retry: { attempts: 1 } })
      .startRecording({ orderId: visit.orderId, orderPublicKey: visit.publicKey, mimeType: 'audio/ogg' })
      .then(
        () => ({ status: 201, code: 'started', other: upload.recordingId }),
        (err: { status: number; code: string }) => ({ status: err.status, code: err.code, other: upload.recordingId }),
      );

  for (const [party, by] of [
    ['customer', 'platform'],
    ['beautician', 'beautician'],
  ] as const) {
    it(`the ${party}'s objection: no more chunks (409 consent_withdrawn), incomplete at once with what arrived, no new start`, async () => {
      const visit = await newVisit(vault);
      const bystander = await newVisit(vault);
      const { upload, chunks } = await recordingUnderWay(visit, 3);
      const elsewhere = await recordingUnderWay(bystander, 1);
      const lastChunkAt = vault.clock.now().getTime();

      vault.clock.advance(HOUR);
      const objected = await consent(
        vault,
        by === 'platform' ? visit.platformToken : visit.beauticianToken,
        visit.orderId,
        party,
        'object',
      );
      expect(objected.status).toBe(201);
      const at = vault.clock.now().toISOString();

      const state = await upload.uploadState();
      expect(state).toMatchObject({ status: 'incomplete', storedSeqs: [0, 1, 2], incompleteAt: at });
      await expect(upload.uploadChunk(chunks[3]!)).rejects.toMatchObject({ status: 409, code: 'consent_withdrawn' });
      // Not even a chunk it already holds, nor completing what it has.
      await expect(upload.uploadChunk(chunks[0]!)).rejects.toMatchObject({ status: 409, code: 'consent_withdrawn' });
      await expect(upload.complete(3)).rejects.toMatchObject({ status: 409, code: 'consent_withdrawn' });
      expect(await startAgain(visit, upload)).toMatchObject({ status: 409, code: 'consent_required' });

      const listed = await listAs(visit.beauticianToken, visit.orderId);
      expect(listed.body.recordings).toEqual([
        expect.objectContaining({
          recordingId: upload.recordingId,
          status: 'incomplete',
          incompleteAt: at,
          incompleteReason: 'consent_withdrawn',
          storedChunks: 3,
          // Kept like any incomplete recording: retention counted from its last chunk.
          retainUntil: new Date(lastChunkAt + vault.config.retentionMs).toISOString(),
        }),
      ]);
      const audit = (await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 1000 })).entries;
      const stopped = audit.find((e) => e.action === 'recording.incomplete');
      expect(stopped).toMatchObject({
        recordingId: upload.recordingId,
        details: { reason: 'consent_withdrawn', party, storedChunks: 3 },
      });
      expect(audit.filter((e) => e.action === 'chunk.stored')).toHaveLength(3);

      // Another order's recording goes on.
      expect(await elsewhere.upload.uploadChunk(elsewhere.chunks[1]!)).toBe('stored');
      expect((await elsewhere.upload.uploadState()).status).toBe('recording');
      expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
    });
  }

  it('racing chunks: each is either kept (201) or refused (409 consent_withdrawn), and the recording holds exactly the kept ones', async () => {
    const visit = await newVisit(vault);
    const { upload, chunks } = await recordingUnderWay(visit, 0);
    const puts = chunks.map((c) =>
      upload.uploadChunk(c).then(
        () => ({ seq: c.seq, outcome: 'stored' }),
        (err: { code: string }) => ({ seq: c.seq, outcome: err.code }),
      ),
    );
    const objection = consent(vault, visit.platformToken, visit.orderId, 'customer', 'object');
    const [outcomes, objected] = await Promise.all([Promise.all(puts), objection]);
    expect(objected.status).toBe(201);
    expect(outcomes.every((o) => o.outcome === 'stored' || o.outcome === 'consent_withdrawn')).toBe(true);
    const kept = outcomes.filter((o) => o.outcome === 'stored').map((o) => o.seq);
    const state = await upload.uploadState();
    expect(state.status).toBe('incomplete');
    expect(state.storedSeqs).toEqual(kept.sort((a, b) => a - b));
  });

  it('plays what arrived before the objection, marked Vault-Recording-Truncated: true; a sealed recording is untouched', async () => {
    const visit = await newVisit(vault);
    const sealed = await uploadSealed(vault, visit, fakeAudio(5000, 4), 1000);
    const { upload, audio } = await recordingUnderWay(visit, 2);
    expect((await consent(vault, visit.platformToken, visit.orderId, 'customer', 'object')).status).toBe(201);

    const grant = await approvedRequest(vault, visit.orderId);
    const prefix = await request(vault.server)
      .get(`/v1/access-requests/${grant.requestId}/recordings/${upload.recordingId}/audio`)
      .set(bearer(grant.staffToken));
    expect(prefix.status).toBe(200);
    expect(prefix.headers['vault-recording-truncated']).toBe('true');
    expect(Buffer.from(prefix.body as Buffer)).toEqual(Buffer.from(audio.subarray(0, 2000)));
    const whole = await play(vault, grant, sealed);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(5000);
    const listed = await listAs(visit.beauticianToken, visit.orderId);
    expect(listed.body.recordings.find((r: { recordingId: string }) => r.recordingId === sealed)).toMatchObject({
      status: 'sealed',
      incompleteReason: null,
    });
  });
});
