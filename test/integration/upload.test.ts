import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { bearer, consent, fakeAudio, newVisit, registerOrder, type Visit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** Register → consent → start → out-of-order and duplicated chunks → resume → complete, through HTTP. */
describe.each(STORE_PAIRS)('upload on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  async function sealedKeyFor(publicKey: string): Promise<{ contentKey: Uint8Array; sealedContentKey: string }> {
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const pk = fromBase64Url(publicKey);
    if (!pk) throw new Error('bad public key');
    return { contentKey, sealedContentKey: toBase64Url(sodium.crypto_box_seal(contentKey, pk)) };
  }

  async function start(visit: Visit) {
    const { contentKey, sealedContentKey } = await sealedKeyFor(visit.publicKey);
    const res = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({ sealedContentKey, mimeType: 'audio/ogg; codecs=opus' });
    expect(res.status).toBe(201);
    return { recordingId: res.body.recordingId as string, contentKey, maxChunkBytes: res.body.maxChunkBytes as number };
  }

  const put = (token: string, recordingId: string, seq: number | string, body: Uint8Array) =>
    request(vault.server)
      .put(`/v1/recordings/${recordingId}/chunks/${seq}`)
      .set(bearer(token))
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from(body));

  it('walks a whole upload: out of order, duplicates, resume, complete', async () => {
    const visit = await newVisit(vault);
    const { recordingId, contentKey, maxChunkBytes } = await start(visit);
    expect(maxChunkBytes).toBe(4_194_304);
    expect(recordingId).toMatch(/^rec_[0-9a-f]{32}$/);

    const n = 6;
    const chunks = Array.from({ length: n }, (_, seq) =>
      encryptChunk({ contentKey, recordingId, seq, final: seq === n - 1, plaintext: fakeAudio(1000 + seq, seq + 1) }),
    );
    // Out of order, with a duplicate, then a "network drop" before seqs 1 and 4.
    for (const seq of [3, 0, 5, 2]) {
      const res = await put(visit.beauticianToken, recordingId, seq, chunks[seq]!);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ recordingId, seq, outcome: 'stored', size: chunks[seq]!.length });
    }
    const dup = await put(visit.beauticianToken, recordingId, 3, chunks[3]!);
    expect(dup.status).toBe(200);
    expect(dup.body.outcome).toBe('duplicate');

    const early = await request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount: n });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'chunks_missing', missing: [1, 4] });

    const state = await request(vault.server)
      .get(`/v1/recordings/${recordingId}/upload-state`)
      .set(bearer(visit.beauticianToken));
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ recordingId, status: 'recording', storedSeqs: [0, 2, 3, 5] });
    for (const seq of [0, 1, 2, 3, 4, 5].filter((s) => !state.body.storedSeqs.includes(s))) {
      expect((await put(visit.beauticianToken, recordingId, seq, chunks[seq]!)).status).toBe(201);
    }

    const done = await request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount: n });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('sealed');
    expect(new Date(done.body.retainUntil).getTime()).toBe(vault.clock.now().getTime() + 7 * 86_400_000);

    // Completing again (a lost answer) is answered the same; a different count is a conflict.
    const again = await request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount: n });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(done.body);
    const other = await request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount: n + 1 });
    expect(other.status).toBe(409);

    // No upload after seal, not even a chunk that was already stored.
    const late = await put(visit.beauticianToken, recordingId, n, chunks[0]!);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('recording_sealed');

    // Everything stored is in storage exactly once per seq.
    const keys = await vault.deps.blobs.list(`recordings/${recordingId}/`);
    expect(keys).toHaveLength(n);
    const stored = await vault.deps.blobs.get(keys[2]!);
    expect(stored && Buffer.compare(stored, Buffer.from(chunks[2]!))).toBe(0);

    const audit = await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 1000 });
    const actions = audit.entries.map((e) => e.action);
    expect(actions.filter((a) => a === 'chunk.stored')).toHaveLength(n);
    expect(actions).toContain('recording.started');
    expect(actions).toContain('recording.sealed');
    expect(actions.filter((a) => a === 'request.refused').length).toBeGreaterThanOrEqual(3);
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });

  it('answers 409 to a different body under a stored seq and keeps the stored one', async () => {
    const visit = await newVisit(vault);
    const { recordingId, contentKey } = await start(visit);
    const a = encryptChunk({ contentKey, recordingId, seq: 0, final: false, plaintext: fakeAudio(500, 1) });
    const b = encryptChunk({ contentKey, recordingId, seq: 0, final: false, plaintext: fakeAudio(500, 2) });
    expect((await put(visit.beauticianToken, recordingId, 0, a)).status).toBe(201);
    const res = await put(visit.beauticianToken, recordingId, 0, b);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('chunk_conflict');
    const keys = await vault.deps.blobs.list(`recordings/${recordingId}/`);
    expect(keys).toHaveLength(1);
    expect(Buffer.compare((await vault.deps.blobs.get(keys[0]!))!, Buffer.from(a))).toBe(0);
  });

  it('keeps exactly one of many concurrent uploads of the same seq', async () => {
    const visit = await newVisit(vault);
    const { recordingId, contentKey } = await start(visit);
    const bodies = Array.from({ length: 6 }, (_, i) =>
      encryptChunk({ contentKey, recordingId, seq: 0, final: false, plaintext: fakeAudio(300, i % 2) }),
    );
    const results = await Promise.all(bodies.map((b) => put(visit.beauticianToken, recordingId, 0, b)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!.body.sha256 as string;
    for (const r of results) {
      if (r.status === 200) expect(r.body.sha256).toBe(winner);
      else if (r.status !== 201) expect(r.status).toBe(409);
    }
    const state = await request(vault.server)
      .get(`/v1/recordings/${recordingId}/upload-state`)
      .set(bearer(visit.beauticianToken));
    expect(state.body.storedSeqs).toEqual([0]);
  });

  it('refuses to start without both consents, and after an objection', async () => {
    const visit = await newVisit(vault, { consents: false });
    const { sealedContentKey } = await sealedKeyFor(visit.publicKey);
    const startIt = () =>
      request(vault.server)
        .post(`/v1/orders/${visit.orderId}/recordings`)
        .set(bearer(visit.beauticianToken))
        .send({ sealedContentKey, mimeType: 'audio/ogg' });

    let res = await startIt();
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('consent_required');
    expect((await consent(vault, visit.beauticianToken, visit.orderId, 'beautician')).status).toBe(201);
    res = await startIt();
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('customer');
    expect((await consent(vault, visit.platformToken, visit.orderId, 'customer', 'object')).status).toBe(201);
    expect((await consent(vault, visit.platformToken, visit.orderId, 'customer')).status).toBe(201);
    res = await startIt();
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('objected');
  });

  it('stores each consent with who, when, how and app version', async () => {
    const visit = await newVisit(vault, { consents: false });
    // The customer's consent is the platform's to record (separation-of-duties.test.ts: never the beautician's).
    const res = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/consents`)
      .set(bearer(visit.platformToken))
      .send({ party: 'customer', decision: 'consent', mode: 'notified_no_objection', appVersion: '4.0.0' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      orderId: visit.orderId,
      party: 'customer',
      mode: 'notified_no_objection',
      appVersion: '4.0.0',
      recordedBy: expect.stringMatching(/^platform-/),
    });
    expect(res.body.recordedAt).toBe(vault.clock.now().toISOString());
    const bad = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/consents`)
      .set(bearer(visit.beauticianToken))
      .send({ party: 'beautician', decision: 'consent', mode: 'notified_no_objection', appVersion: '4.0.0' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('mode');
  });

  it('keeps beauticians to their own orders and recordings', async () => {
    const mine = await newVisit(vault);
    const theirs = await newVisit(vault);
    const { recordingId, contentKey } = await start(mine);
    const chunk = encryptChunk({ contentKey, recordingId, seq: 0, final: true, plaintext: fakeAudio(10) });

    expect((await put(theirs.beauticianToken, recordingId, 0, chunk)).status).toBe(403);
    expect(
      (
        await request(vault.server)
          .get(`/v1/recordings/${recordingId}/upload-state`)
          .set(bearer(theirs.beauticianToken))
      ).status,
    ).toBe(403);
    expect(
      (
        await request(vault.server)
          .post(`/v1/recordings/${recordingId}/complete`)
          .set(bearer(theirs.beauticianToken))
          .send({ chunkCount: 1 })
      ).status,
    ).toBe(403);
    expect((await consent(vault, theirs.beauticianToken, mine.orderId, 'beautician')).status).toBe(403);
    const { sealedContentKey } = await sealedKeyFor(mine.publicKey);
    expect(
      (
        await request(vault.server)
          .post(`/v1/orders/${mine.orderId}/recordings`)
          .set(bearer(theirs.beauticianToken))
          .send({ sealedContentKey, mimeType: 'audio/ogg' })
      ).status,
    ).toBe(403);
    // Other roles may not upload at all.
    expect((await put(mine.platformToken, recordingId, 0, chunk)).status).toBe(403);
    expect((await put(mine.beauticianToken, recordingId, 0, chunk)).status).toBe(201);
  });

  it('lists recording metadata for dispute staff without key material', async () => {
    const visit = await newVisit(vault);
    const { recordingId } = await start(visit);
    const staff = await vault.addPrincipal({
      id: `staff-${pair.replace('+', '-')}`,
      roles: ['dispute_staff'],
      department: 'disputes',
    });
    const res = await request(vault.server).get(`/v1/orders/${visit.orderId}/recordings`).set(bearer(staff));
    expect(res.status).toBe(200);
    expect(res.body.recordings).toHaveLength(1);
    expect(res.body.recordings[0]).toMatchObject({
      recordingId,
      status: 'recording',
      mimeType: 'audio/ogg; codecs=opus',
      storedChunks: 0,
    });
    expect(res.body.recordings[0].holds).toEqual([]);
    expect(JSON.stringify(res.body)).not.toMatch(/sealedContentKey|wrapped|secretKey|contentKey/i);

    // The order's beautician lists it too (to find a recording to resume), without holds; another beautician may not.
    const own = await request(vault.server)
      .get(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken));
    expect(own.status).toBe(200);
    expect(own.body.recordings).toEqual([expect.objectContaining({ recordingId, status: 'recording' })]);
    expect(own.body.recordings[0]).not.toHaveProperty('holds');
    expect(JSON.stringify(own.body)).not.toMatch(/sealedContentKey|wrapped|secretKey|contentKey/i);
    const stranger = await newVisit(vault);
    const other = await request(vault.server)
      .get(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(stranger.beauticianToken));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('not_your_order');
  });

  it('rejects a duplicate order id and an unknown beautician', async () => {
    const visit = await newVisit(vault);
    const again = await request(vault.server).post('/v1/orders').set(bearer(visit.platformToken)).send({
      orderId: visit.orderId,
      beauticianId: visit.beauticianId,
      customerId: 'c',
      scheduledAt: '2026-11-24T10:00:00Z',
    });
    expect(again.status).toBe(409);
    await expect(registerOrder(vault, visit.platformToken, 'nobody')).rejects.toThrow(/400/);
  });
});
