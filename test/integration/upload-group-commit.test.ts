import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { type ChunkToCommit, commitChunks, createChunkCommits } from '../../src/domain/chunk-commits.js';
import type { Principal } from '../../src/domain/principal.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** Starts a recording through the phone client and returns it with its encrypted chunks, none uploaded. */
async function prepared(vault: TestVault, chunks = 6) {
  const visit = await newVisit(vault);
  const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
  const upload = await phone.startRecording({
    orderId: visit.orderId,
    orderPublicKey: visit.publicKey,
    mimeType: 'audio/ogg',
  });
  const encrypted = upload.encrypt(splitIntoChunks(fakeAudio(chunks * 1000, chunks), 1000));
  return { visit, upload, encrypted };
}

const stored = async (vault: TestVault, recordingId: string) =>
  (
    await vault.deps.db.query<{ seq: number }>('SELECT seq FROM chunks WHERE recording_id = $1 ORDER BY seq', [
      recordingId,
    ])
  ).map((r) => r.seq);

const auditedSeqs = async (vault: TestVault, recordingId: string) =>
  (
    await vault.deps.db.query<{ seq: number }>(
      `SELECT (details->>'seq')::int AS seq FROM audit_log WHERE recording_id = $1 AND action = 'chunk.stored' ORDER BY 1`,
      [recordingId],
    )
  ).map((r) => r.seq);

describe.each(STORE_PAIRS)('chunk uploads committed in groups, on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  it('acknowledges each of many concurrent uploads once its row and audit entry are committed', async () => {
    const recs = await Promise.all([prepared(vault), prepared(vault), prepared(vault)]);
    const puts = recs.flatMap(({ visit, upload, encrypted }) =>
      encrypted.map((c) =>
        request(vault.server)
          .put(`/v1/recordings/${upload.recordingId}/chunks/${c.seq}`)
          .set(bearer(visit.beauticianToken))
          .set('content-type', 'application/octet-stream')
          .send(Buffer.from(c.bytes))
          .then((res) => ({ recordingId: upload.recordingId, seq: c.seq, status: res.status })),
      ),
    );
    const answers = await Promise.all(puts);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    for (const { upload, encrypted } of recs) {
      const seqs = encrypted.map((c) => c.seq);
      expect(await stored(vault, upload.recordingId)).toEqual(seqs);
      expect(await auditedSeqs(vault, upload.recordingId)).toEqual(seqs);
      const [totals] = await vault.deps.db.query<{ stored_chunks: number; stored_bytes: number }>(
        'SELECT stored_chunks, stored_bytes FROM recordings WHERE id = $1',
        [upload.recordingId],
      );
      expect(totals).toEqual({
        stored_chunks: encrypted.length,
        stored_bytes: encrypted.reduce((n, c) => n + c.bytes.length, 0),
      });
    }
  });

  it('refuses, among concurrent uploads, only the one whose recording no longer takes chunks', async () => {
    const open = await prepared(vault);
    const sealed = await prepared(vault, 2);
    await sealed.upload.uploadMissing(sealed.encrypted);
    await sealed.upload.complete(sealed.encrypted.length);
    const late = { ...sealed, encrypted: sealed.encrypted.map((c) => ({ ...c, seq: c.seq + 2 })) };
    const answers = await Promise.all(
      [open, late].flatMap(({ visit, upload, encrypted }) =>
        encrypted.map((c) =>
          request(vault.server)
            .put(`/v1/recordings/${upload.recordingId}/chunks/${c.seq}`)
            .set(bearer(visit.beauticianToken))
            .set('content-type', 'application/octet-stream')
            .send(Buffer.from(c.bytes))
            .then((res) => ({ recordingId: upload.recordingId, status: res.status, code: res.body?.error?.code })),
        ),
      ),
    );
    expect(answers.filter((a) => a.recordingId === open.upload.recordingId).map((a) => a.status)).toEqual(
      open.encrypted.map(() => 201),
    );
    expect(answers.filter((a) => a.recordingId === sealed.upload.recordingId)).toEqual(
      late.encrypted.map(() => ({ recordingId: sealed.upload.recordingId, status: 409, code: 'recording_sealed' })),
    );
    expect(await stored(vault, sealed.upload.recordingId)).toEqual([0, 1]);
  });
});

describe('the commit step of chunk uploads (postgres+fs)', () => {
  let vault: TestVault;
  const beautician = (id: string): Principal => ({ id, name: id, department: 'field', roles: ['beautician'] });
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  const item = (actorId: string, recordingId: string, seq: number, sha256 = `${'ab'.repeat(31)}${seq}${seq}`) =>
    ({
      actor: beautician(actorId),
      recordingId,
      seq,
      sha256,
      size: 100,
      plaintextSize: 59,
      objectKey: `recordings/${recordingId}/${seq}`,
    }) satisfies ChunkToCommit;

  it('puts the rows of one batch into one transaction, and tells a duplicate and a conflict inside it apart', async () => {
    const a = await prepared(vault);
    const b = await prepared(vault);
    const outcomes = await commitChunks(vault.deps, [
      item(a.visit.beauticianId, a.upload.recordingId, 0),
      item(b.visit.beauticianId, b.upload.recordingId, 0),
      item(a.visit.beauticianId, a.upload.recordingId, 1),
      item(a.visit.beauticianId, a.upload.recordingId, 0),
      item(a.visit.beauticianId, a.upload.recordingId, 1, 'cd'.repeat(32)),
    ]);
    expect(outcomes.map((o) => (o.ok ? o.value.outcome : (o.error as { code?: string }).code))).toEqual([
      'stored',
      'stored',
      'stored',
      'duplicate',
      'chunk_conflict',
    ]);
    // One transaction: every row of the batch carries the same inserting transaction id.
    const xmins = await vault.deps.db.query<{ xmin: string }>(
      'SELECT DISTINCT xmin::text AS xmin FROM chunks WHERE recording_id = ANY($1)',
      [[a.upload.recordingId, b.upload.recordingId]],
    );
    expect(xmins).toHaveLength(1);
    expect(await auditedSeqs(vault, a.upload.recordingId)).toEqual([0, 1]);
  });

  it('acknowledges nothing of a batch that fails, and every other upload once it commits without the failing one', async () => {
    const r = await prepared(vault);
    const id = r.upload.recordingId;
    // A database that refuses one row (seq 2 of this recording): the transaction holding it fails as a whole.
    const fn = `refuse_${id.slice(4, 16)}`;
    await vault.deps.db.query(
      `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.recording_id = '${id}' AND NEW.seq = 2 THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`,
    );
    await vault.deps.db.query(`CREATE TRIGGER ${fn} BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      const items = [0, 1, 2, 3].map((seq) => item(r.visit.beauticianId, id, seq));
      await expect(commitChunks(vault.deps, items)).rejects.toThrow('refused for the test');
      expect(await stored(vault, id)).toEqual([]);
      expect(await auditedSeqs(vault, id)).toEqual([]);

      const commits = createChunkCommits(vault.deps);
      const answers = await Promise.allSettled(items.map((i) => commits.submit(i)));
      await commits.close();
      expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(await stored(vault, id)).toEqual([0, 1, 3]);
      expect(await auditedSeqs(vault, id)).toEqual([0, 1, 3]);
    } finally {
      await vault.deps.db.query(`DROP TRIGGER ${fn} ON chunks`);
      await vault.deps.db.query(`DROP FUNCTION ${fn}()`);
    }
  });
});
