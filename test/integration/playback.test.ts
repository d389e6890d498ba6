import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { bearer, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { tone } from '../helpers/audio.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { signedDecision } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;

/** Decodes audio with ffmpeg and says how many seconds of 16 kHz mono it holds. */
function secondsOf(encoded: Buffer): number {
  const pcm = execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'],
    {
      input: encoded,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return pcm.length / 2 / 16000;
}

/** ffmpeg processes whose parent is this test process (the vault runs in it). */
async function ffmpegChildren(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (m && m[1] === 'ffmpeg' && Number(m[2]) === process.pid) pids.push(Number(entry));
  }
  return pids;
}

/** Waits up to five seconds for every ffmpeg child to be gone. */
async function ffmpegGone(): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if ((await ffmpegChildren()).length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const parts: Buffer[] = [];
  res.on('data', (c: Buffer) => parts.push(c));
  res.on('end', () => cb(null, Buffer.concat(parts)));
  res.on('error', (err: Error) => cb(err, Buffer.concat(parts)));
};

const split = (bytes: Uint8Array, size: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, Math.min(at + size, bytes.length)));
  return out;
};

/** Playback of approved requests through HTTP: authorisation, ranges, transcoding, tampering, incomplete recordings. */
describe.each(STORE_PAIRS)('playback on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  let visit: Visit;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    vault = await startTestVault(pair);
    visit = await newVisit(vault);
    for (const [name, roles, department] of [
      ['staff', ['dispute_staff'], 'disputes'],
      ['staff2', ['dispute_staff'], 'disputes'],
      ['dh', ['department_head'], 'disputes'],
      ['sh', ['security_head'], 'security'],
      ['auditor', ['auditor'], 'audit'],
    ] as const) {
      t[name] = await vault.addPrincipal({ id: `${name}-${tag}`, roles: [...roles], department });
    }
  });
  afterAll(async () => vault?.close());

  /** Uploads plaintext parts as a recording, like the phone does; completes it unless told not to. */
  async function upload(
    v: Visit,
    parts: Uint8Array[],
    options: { mimeType?: string; complete?: boolean; finalOnLast?: boolean } = {},
  ) {
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const sealedContentKey = toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(v.publicKey)!));
    const started = await request(vault.server)
      .post(`/v1/orders/${v.orderId}/recordings`)
      .set(bearer(v.beauticianToken))
      .send({ sealedContentKey, mimeType: options.mimeType ?? 'audio/ogg; codecs=opus' });
    expect(started.status).toBe(201);
    const recordingId = started.body.recordingId as string;
    for (const [seq, plaintext] of parts.entries()) {
      const final = seq === parts.length - 1 && options.finalOnLast !== false;
      const res = await request(vault.server)
        .put(`/v1/recordings/${recordingId}/chunks/${seq}`)
        .set(bearer(v.beauticianToken))
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from(encryptChunk({ contentKey, recordingId, seq, final, plaintext })));
      expect(res.status).toBe(201);
    }
    if (options.complete !== false) {
      const done = await request(vault.server)
        .post(`/v1/recordings/${recordingId}/complete`)
        .set(bearer(v.beauticianToken))
        .send({ chunkCount: parts.length });
      expect(done.status).toBe(200);
    }
    return recordingId;
  }

  async function fileRequest(orderId = visit.orderId, token = t.staff!) {
    const res = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(token))
      .send({ orderId, purpose: 'dispute', reason: 'complaint about the visit', ticketRef: 'DSP-7' });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const decide = async (token: string, id: string, decision: 'approve' | 'reject') =>
    request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(token))
      .send(await signedDecision(vault.baseUrl, token, id, decision, 'ok'));
  async function approvedRequest(orderId = visit.orderId, token = t.staff!) {
    const id = await fileRequest(orderId, token);
    expect((await decide(t.dh!, id, 'approve')).status).toBe(200);
    expect((await decide(t.sh!, id, 'approve')).body.status).toBe('approved');
    return id;
  }

  const audio = (
    requestId: string,
    recordingId: string,
    options: { token?: string; format?: string; range?: string } = {},
  ) => {
    const r = request(vault.server)
      .get(
        `/v1/access-requests/${requestId}/recordings/${recordingId}/audio${options.format ? `?format=${options.format}` : ''}`,
      )
      .set(bearer(options.token ?? t.staff!))
      .buffer(true)
      .parse(binary);
    return options.range ? r.set('range', options.range) : r;
  };

  /** Fetches with undici, so a stream cut after its headers shows as a failed body read. */
  async function streamed(requestId: string, recordingId: string, query = '') {
    const res = await fetch(
      `${vault.baseUrl}/v1/access-requests/${requestId}/recordings/${recordingId}/audio${query}`,
      { headers: bearer(t.staff!) },
    );
    const body = await res.arrayBuffer().then(
      (b) => ({ ok: true as const, bytes: Buffer.from(b) }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    return { status: res.status, headers: res.headers, body };
  }

  const integrityFailures = async () => (await vault.deps.metrics.integrityFailures.get()).values[0]?.value ?? 0;
  const objectKeys = (recordingId: string) => vault.deps.blobs.list(`recordings/${recordingId}/`);
  async function flipByte(key: string, at: number) {
    const body = Buffer.from((await vault.deps.blobs.get(key))!);
    body[at] = body[at]! ^ 0x01;
    await vault.deps.blobs.put(key, body);
  }

  it('plays exactly the uploaded bytes with the mime type, length and Accept-Ranges', async () => {
    const parts = [fakeAudio(1000, 1), fakeAudio(1000, 2), fakeAudio(10, 3), fakeAudio(777, 4)];
    const recordingId = await upload(visit, parts, { mimeType: 'audio/ogg; codecs=opus' });
    const requestId = await approvedRequest();
    const res = await audio(requestId, recordingId);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('audio/ogg; codecs=opus');
    expect(res.headers['content-length']).toBe('2787');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['vault-recording-truncated']).toBeUndefined();
    expect(Buffer.compare(res.body as Buffer, Buffer.concat(parts))).toBe(0);
    expect((await audio(requestId, recordingId, { format: 'original' })).body).toEqual(res.body);
  });

  it('answers Range with 206 and exactly the bytes asked for, and unsatisfiable ranges with 416', async () => {
    const parts = [fakeAudio(100, 1), fakeAudio(100, 2), fakeAudio(0, 3), fakeAudio(100, 4), fakeAudio(50, 5)];
    const whole = Buffer.concat(parts);
    const recordingId = await upload(visit, parts);
    const requestId = await approvedRequest();
    for (const [header, start, end] of [
      ['bytes=0-0', 0, 0],
      ['bytes=0-99', 0, 99],
      ['bytes=99-100', 99, 100],
      ['bytes=150-260', 150, 260],
      ['bytes=300-', 300, 349],
      ['bytes=-60', 290, 349],
      ['bytes=200-100000', 200, 349],
    ] as const) {
      const res = await audio(requestId, recordingId, { range: header });
      expect(res.status, header).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/350`);
      expect(res.headers['content-length']).toBe(String(end - start + 1));
      expect(Buffer.compare(res.body as Buffer, whole.subarray(start, end + 1)), header).toBe(0);
    }
    const unsatisfiable = await audio(requestId, recordingId, { range: 'bytes=350-' });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe('bytes */350');
    expect(JSON.parse((unsatisfiable.body as Buffer).toString('utf8')).error.code).toBe('range_not_satisfiable');
    // Several ranges are answered with the whole body, which RFC 9110 allows.
    const multi = await audio(requestId, recordingId, { range: 'bytes=0-1,5-6' });
    expect(multi.status).toBe(200);
    expect(multi.body).toEqual(whole);
  });

  it('decrypts only the chunks a range touches', async () => {
    const parts = [fakeAudio(100, 1), fakeAudio(100, 2), fakeAudio(100, 3)];
    const recordingId = await upload(visit, parts);
    const requestId = await approvedRequest();
    const keys = await objectKeys(recordingId);
    await flipByte(keys[0]!, 40);
    await vault.deps.blobs.delete(keys[2]!);
    const middle = await audio(requestId, recordingId, { range: 'bytes=110-189' });
    expect(middle.status).toBe(206);
    expect(middle.body).toEqual(Buffer.from(parts[1]!.subarray(10, 90)));
    expect((await audio(requestId, recordingId)).status).toBe(502);
  });

  it('lets only the requester of an approved, unexpired request play, and only that order', async () => {
    const recordingId = await upload(visit, [fakeAudio(50, 1)]);
    const requestId = await approvedRequest();
    const refused = async (options: Parameters<typeof audio>[2], id = requestId, rec = recordingId) => {
      const res = await audio(id, rec, options);
      return [res.status, JSON.parse((res.body as Buffer).toString('utf8') || '{}').error?.code];
    };
    expect(await refused({ token: t.staff2! })).toEqual([403, 'not_your_request']);
    expect(await refused({ token: t.dh! })).toEqual([403, 'wrong_role']);
    expect(await refused({ token: t.auditor! })).toEqual([403, 'wrong_role']);
    expect(await refused({ token: visit.beauticianToken })).toEqual([403, 'wrong_role']);

    const pending = await fileRequest();
    expect(await refused({}, pending)).toEqual([403, 'request_not_approved']);
    const rejected = await fileRequest();
    await decide(t.sh!, rejected, 'reject');
    expect(await refused({}, rejected)).toEqual([403, 'request_not_approved']);

    const other = await newVisit(vault);
    const foreign = await upload(other, [fakeAudio(50, 2)]);
    expect(await refused({}, requestId, foreign)).toEqual([403, 'recording_not_in_request']);
    expect(await refused({}, 'req_nope')).toEqual([404, 'not_found']);
    expect(await refused({}, requestId, 'rec_nope')).toEqual([404, 'not_found']);
    expect(await refused({ format: 'flac' })).toEqual([400, 'invalid_input']);

    const uploading = await upload(visit, [fakeAudio(50, 3)], { complete: false });
    expect(await refused({}, requestId, uploading)).toEqual([409, 'recording_in_progress']);
    expect((await audio(requestId, recordingId)).status).toBe(200);
  });

  it('answers 410 once the request expired undecided or the grant ran out', async () => {
    const recordingId = await upload(visit, [fakeAudio(50, 1)]);
    const undecided = await fileRequest();
    const requestId = await approvedRequest();
    vault.clock.advance(24 * HOUR - 1);
    expect((await audio(requestId, recordingId)).status).toBe(200);
    vault.clock.advance(1);
    const late = await audio(requestId, recordingId);
    expect(late.status).toBe(410);
    expect(JSON.parse((late.body as Buffer).toString('utf8')).error.code).toBe('grant_expired');
    vault.clock.advance(48 * HOUR);
    const expired = await audio(undecided, recordingId);
    expect(expired.status).toBe(410);
    expect(JSON.parse((expired.body as Buffer).toString('utf8')).error.code).toBe('request_expired');
  });

  it('plays the contiguous prefix of an incomplete recording', async () => {
    const failuresBefore = await integrityFailures();
    const parts = [fakeAudio(100, 1), fakeAudio(100, 2), fakeAudio(100, 3), fakeAudio(100, 4)];
    // Seq 2 never arrived; seq 3 did. The prefix is 0..1, and seq 1 was not the final chunk.
    const withGap = await upload(visit, parts, { complete: false });
    await vault.deps.db.query(`DELETE FROM chunks WHERE recording_id = $1 AND seq = 2`, [withGap]);
    // All chunks arrived, the last flagged final, but the phone never completed.
    const unfinished = await upload(visit, parts, { complete: false });
    // Stopped mid-recording: no chunk flagged final.
    const cut = await upload(visit, parts.slice(0, 3), { complete: false, finalOnLast: false });
    // What the sweeper does after VAULT_INCOMPLETE_AFTER.
    await vault.deps.db.query(
      `UPDATE recordings SET status = 'incomplete', incomplete_at = $2 WHERE id = ANY($1::text[])`,
      [[withGap, unfinished, cut], vault.clock.now()],
    );
    const requestId = await approvedRequest();
    const TRUNCATED = 'vault-recording-truncated';
    const gap = await audio(requestId, withGap);
    expect(gap.body).toEqual(Buffer.concat(parts.slice(0, 2)));
    // Ended without its final chunk: the prefix plays, and says it is one. Only a chunk that fails is an error.
    expect(gap.headers[TRUNCATED]).toBe('true');
    const whole = await audio(requestId, unfinished);
    expect(whole.body).toEqual(Buffer.concat(parts));
    expect(whole.headers[TRUNCATED]).toBeUndefined();
    const stopped = await audio(requestId, cut);
    expect(stopped.body).toEqual(Buffer.concat(parts.slice(0, 3)));
    expect(stopped.headers[TRUNCATED]).toBe('true');
    const range = await audio(requestId, withGap, { range: 'bytes=150-' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe('bytes 150-199/200');
    expect(range.headers[TRUNCATED]).toBe('true');
    expect(await integrityFailures()).toBe(failuresBefore);
  });

  describe('fails closed on tampered storage', () => {
    const parts = [fakeAudio(300, 1), fakeAudio(300, 2), fakeAudio(300, 3), fakeAudio(300, 4)];

    async function expectIntegrityFailure(recordingId: string, requestId: string, seq: number, reason: string) {
      const entries = (await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 1000 })).entries.filter(
        (e) => e.action === 'playback.integrity_failure' && e.recordingId === recordingId,
      );
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ outcome: 'failed', details: { requestId, seq, reason, format: 'original' } });
    }

    it('a changed byte in the first chunk: a clean 502 before any audio', async () => {
      const recordingId = await upload(visit, parts);
      const requestId = await approvedRequest();
      await flipByte((await objectKeys(recordingId))[0]!, 30);
      const before = await integrityFailures();
      const res = await audio(requestId, recordingId);
      expect(res.status).toBe(502);
      expect(JSON.parse((res.body as Buffer).toString('utf8')).error.code).toBe('integrity_failure');
      expect(await integrityFailures()).toBe(before + 1);
      await expectIntegrityFailure(recordingId, requestId, 0, 'not_authentic');
    });

    it('a changed byte in a later chunk: the stream is cut there', async () => {
      const recordingId = await upload(visit, parts);
      const requestId = await approvedRequest();
      await flipByte((await objectKeys(recordingId))[2]!, 100);
      const before = await integrityFailures();
      const res = await streamed(requestId, recordingId);
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(false);
      expect(await integrityFailures()).toBe(before + 1);
      await expectIntegrityFailure(recordingId, requestId, 2, 'not_authentic');
    });

    it('two stored chunks swapped', async () => {
      const recordingId = await upload(visit, parts);
      const requestId = await approvedRequest();
      const keys = await objectKeys(recordingId);
      const [a, b] = [await vault.deps.blobs.get(keys[1]!), await vault.deps.blobs.get(keys[2]!)];
      await vault.deps.blobs.put(keys[1]!, b!);
      await vault.deps.blobs.put(keys[2]!, a!);
      const res = await streamed(requestId, recordingId);
      expect(res.body.ok).toBe(false);
      await expectIntegrityFailure(recordingId, requestId, 1, 'not_authentic');
    });

    it('the final chunk object deleted', async () => {
      const recordingId = await upload(visit, parts);
      const requestId = await approvedRequest();
      const keys = await objectKeys(recordingId);
      expect(await vault.deps.blobs.delete(keys[3]!)).toBe('DELETED');
      const res = await streamed(requestId, recordingId);
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(false);
      await expectIntegrityFailure(recordingId, requestId, 3, 'missing');
    });

    it('a final chunk replaced by a non-final one of the same recording (truncation)', async () => {
      const recordingId = await upload(visit, parts);
      const requestId = await approvedRequest();
      const keys = await objectKeys(recordingId);
      await vault.deps.blobs.put(keys[3]!, (await vault.deps.blobs.get(keys[2]!))!);
      const res = await streamed(requestId, recordingId);
      expect(res.body.ok).toBe(false);
      await expectIntegrityFailure(recordingId, requestId, 3, 'not_authentic');
    });
  });

  describe('transcoding with ffmpeg', () => {
    let recordingId: string;
    let requestId: string;
    beforeAll(async () => {
      recordingId = await upload(visit, split(await tone(1), 8 * 1024), { mimeType: 'audio/wav' });
      requestId = await approvedRequest();
    });

    it.each([
      [
        'mp3',
        'audio/mpeg',
        (b: Buffer) => b.subarray(0, 3).toString('latin1') === 'ID3' || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0),
      ],
      [
        'wav',
        'audio/wav',
        (b: Buffer) =>
          b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WAVE',
      ],
      ['ogg', 'audio/ogg', (b: Buffer) => b.subarray(0, 4).toString('latin1') === 'OggS'],
    ] as const)('streams format=%s as %s', async (format, contentType, looksRight) => {
      const res = await audio(requestId, recordingId, { format, range: 'bytes=0-10' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(contentType);
      expect(res.headers['accept-ranges']).toBe('none');
      expect(res.headers['content-range']).toBeUndefined();
      const body = res.body as Buffer;
      expect(body.length).toBeGreaterThan(1000);
      expect(looksRight(body)).toBe(true);
      // ffmpeg decodes it back to about one second of audio.
      expect(secondsOf(body)).toBeGreaterThan(0.9);
      expect(secondsOf(body)).toBeLessThan(1.2);
    });

    it('ends ffmpeg when the client goes away mid-stream', async () => {
      // Two minutes of 48 kHz stereo: 23 MB of WAV, far more than the socket buffers hold, so ffmpeg is still busy.
      const longId = await upload(visit, split(await tone(120, 'mp3'), 64 * 1024), { mimeType: 'audio/mpeg' });
      const controller = new AbortController();
      const res = await fetch(
        `${vault.baseUrl}/v1/access-requests/${requestId}/recordings/${longId}/audio?format=wav`,
        { headers: bearer(t.staff!), signal: controller.signal },
      );
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      expect(await ffmpegChildren()).toHaveLength(1);
      controller.abort();
      await reader.cancel().catch(() => undefined);
      expect(await ffmpegGone()).toBe(true);
    });

    it('fails closed on a tampered chunk: a clean 502 before any output, a cut stream after', async () => {
      const short = await upload(visit, split(await tone(1), 8 * 1024), { mimeType: 'audio/wav' });
      const shortKeys = await objectKeys(short);
      await flipByte(shortKeys[shortKeys.length - 2]!, 50);
      const early = await streamed(requestId, short, '?format=mp3');
      expect(early.status).toBe(502);
      expect(early.body.ok && JSON.parse(early.body.bytes.toString('utf8')).error.code).toBe('integrity_failure');
      expect(await ffmpegGone()).toBe(true);

      const long = await upload(visit, split(await tone(60, 'mp3'), 16 * 1024), { mimeType: 'audio/mpeg' });
      const longKeys = await objectKeys(long);
      await flipByte(longKeys[longKeys.length - 2]!, 50);
      const late = await streamed(requestId, long, '?format=wav');
      expect(late.status).toBe(200);
      expect(late.body.ok).toBe(false);
      expect(await ffmpegGone()).toBe(true);
    });
  });

  it("writes every request, decision, refusal and playback to the order's audit story", async () => {
    const recordingId = await upload(visit, [fakeAudio(100, 1), fakeAudio(100, 2)]);
    const requestId = await approvedRequest();
    await audio(requestId, recordingId, { range: 'bytes=10-20' });
    await audio(requestId, recordingId, { token: t.staff2! });
    const res = await request(vault.server)
      .get(`/v1/audit?orderId=${visit.orderId}&limit=1000`)
      .set(bearer(t.auditor!));
    const entries = res.body.entries as {
      action: string;
      outcome: string;
      actorId: string;
      recordingId: string | null;
      details: Record<string, unknown>;
    }[];
    const mine = entries.filter(
      (e) => e.details.requestId === requestId || String(e.details.path ?? '').includes(requestId),
    );
    expect(mine.map((e) => e.action)).toEqual([
      'access_request.filed',
      'access_request.decided',
      'access_request.decided',
      'playback.started',
      'request.refused',
    ]);
    expect(mine[3]).toMatchObject({
      actorId: `staff-${tag}`,
      recordingId,
      details: { format: 'original', range: 'bytes=10-20', served: '10-20', status: 206, total: 200 },
    });
    expect(mine[4]).toMatchObject({
      actorId: `staff2-${tag}`,
      outcome: 'refused',
      recordingId,
      details: { status: 403, code: 'not_your_request' },
    });
    expect(JSON.stringify(entries)).not.toMatch(/contentKey|secretKey/);
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });
});

describe('transcoding without ffmpeg', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { FFMPEG_PATH: '/nonexistent/ffmpeg' });
  });
  afterAll(async () => vault?.close());

  it('answers 503 with a clear error, and original still plays', async () => {
    const visit = await newVisit(vault);
    const staff = await vault.addPrincipal({ id: 'staff', roles: ['dispute_staff'], department: 'disputes' });
    const dh = await vault.addPrincipal({ id: 'dh', roles: ['department_head'], department: 'disputes' });
    const sh = await vault.addPrincipal({ id: 'sh', roles: ['security_head'], department: 'security' });
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const started = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({
        sealedContentKey: toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(visit.publicKey)!)),
        mimeType: 'audio/wav',
      });
    const recordingId = started.body.recordingId as string;
    const plaintext = fakeAudio(64);
    await request(vault.server)
      .put(`/v1/recordings/${recordingId}/chunks/0`)
      .set(bearer(visit.beauticianToken))
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from(encryptChunk({ contentKey, recordingId, seq: 0, final: true, plaintext })));
    await request(vault.server)
      .post(`/v1/recordings/${recordingId}/complete`)
      .set(bearer(visit.beauticianToken))
      .send({ chunkCount: 1 });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(staff))
      .send({ orderId: visit.orderId, purpose: 'safety', reason: 'r', ticketRef: 'T-1' });
    for (const token of [dh, sh])
      await request(vault.server)
        .post(`/v1/access-requests/${filed.body.id}/decisions`)
        .set(bearer(token))
        .send(await signedDecision(vault.baseUrl, token, filed.body.id, 'approve', 'ok'));

    const path = `/v1/access-requests/${filed.body.id}/recordings/${recordingId}/audio`;
    const res = await request(vault.server).get(`${path}?format=mp3`).set(bearer(staff));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('ffmpeg_unavailable');
    expect(res.body.error.message).toMatch(/ffmpeg.*FFMPEG_PATH.*format=original/);
    expect(res.headers['retry-after']).toBeDefined();
    const original = await request(vault.server).get(path).set(bearer(staff)).buffer(true).parse(binary);
    expect(original.status).toBe(200);
    expect(original.body).toEqual(Buffer.from(plaintext));
  });
});
