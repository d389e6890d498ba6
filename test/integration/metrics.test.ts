import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { startSweeper } from '../../src/domain/sweeper.js';
import { VAULT_VERSION } from '../../src/version.js';
import { WORKER_NAMES } from '../../src/workers.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { waitFor } from '../helpers/embedded.js';
import { approvedRequest, play } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;

/** One sample's value from the Prometheus text exposition, e.g. `vault_chunks_stored_total` or `x{format="original"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** What an on-call engineer graphs: every counter of the issue moves when its event happens, through GET /metrics. */
describe('GET /metrics after a visit', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());
  const scrape = async () => {
    const res = await request(vault.server).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.text;
  };

  it('counts uploads, bytes, latency, duplicates, conflicts, playback, integrity failures and sweeps', async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(10_000, 7);
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 4_000));
    await upload.forgetKey();
    await upload.uploadMissing(chunks);
    const put = (seq: number, body: Uint8Array) =>
      request(vault.server)
        .put(`/v1/recordings/${upload.recordingId}/chunks/${seq}`)
        .set(bearer(visit.beauticianToken))
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from(body));
    expect((await put(0, chunks[0]!.bytes)).status).toBe(200);
    const altered = Buffer.from(chunks[0]!.bytes);
    altered[30] = altered[30]! ^ 0xff;
    expect((await put(0, altered)).status).toBe(409);
    await upload.complete(chunks.length);

    // A second recording that goes silent: the sweeper marks it incomplete.
    const silent = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const silentChunks = silent.encrypt(splitIntoChunks(fakeAudio(100, 8), 100));
    await silent.uploadChunk(silentChunks[0]!);

    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, upload.recordingId)).status).toBe(200);
    const [key] = await vault.deps.blobs.list(`recordings/${upload.recordingId}/`);
    const tampered = Buffer.from((await vault.deps.blobs.get(key!))!);
    tampered[40] = tampered[40]! ^ 0x01;
    await vault.deps.blobs.put(key!, tampered);
    expect((await play(vault, grant, upload.recordingId)).status).toBeGreaterThanOrEqual(500);

    vault.clock.advance(8 * 24 * HOUR);
    const sweeper = startSweeper(vault.deps, pino({ level: 'silent' }));
    await sweeper.stop();

    const text = await scrape();
    const cipherBytes = chunks.reduce((n, c) => n + c.bytes.length, 0) + silentChunks[0]!.bytes.length;
    expect(sample(text, 'vault_chunks_stored_total')).toBe(chunks.length + 1);
    expect(sample(text, 'vault_chunks_stored_bytes_total')).toBe(cipherBytes);
    expect(sample(text, 'vault_chunk_upload_seconds_count')).toBe(chunks.length + 2);
    expect(sample(text, 'vault_chunks_duplicate_total')).toBe(1);
    expect(sample(text, 'vault_chunks_conflicting_total')).toBe(1);
    expect(sample(text, 'vault_playback_streams_total{format="original"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'vault_playback_bytes_total{format="original"}')).toBe(audio.length);
    expect(sample(text, 'vault_integrity_failures_total')).toBe(1);
    expect(sample(text, 'vault_sweeper_runs_total{outcome="ok"}')).toBe(1);
    expect(sample(text, 'vault_recordings_incomplete_total')).toBe(1);
    expect(sample(text, 'vault_recordings_expired_total')).toBe(2);
    expect(
      sample(
        text,
        'vault_http_requests_total{method="PUT",route="/v1/recordings/:recordingId/chunks/:seq",status="201"}',
      ),
    ).toBe(chunks.length + 1);
    expect(
      sample(
        text,
        'vault_http_requests_total{method="PUT",route="/v1/recordings/:recordingId/chunks/:seq",status="409"}',
      ),
    ).toBe(1);
    // Latency by route and status: a histogram, counted like the requests.
    const chunkPut = 'method="PUT",route="/v1/recordings/:recordingId/chunks/:seq",status="201"';
    expect(sample(text, `vault_http_request_duration_seconds_count{${chunkPut}}`)).toBe(chunks.length + 1);
    expect(sample(text, `vault_http_request_duration_seconds_bucket{le="+Inf",${chunkPut}}`)).toBe(chunks.length + 1);
    expect(sample(text, `vault_http_request_duration_seconds_sum{${chunkPut}}`)).toBeGreaterThan(0);
    // Labels never carry ids.
    expect(text).not.toContain(upload.recordingId);
    expect(text).not.toContain(visit.orderId);
  });

  it('labels requests that match no route as unmatched, whatever their path', async () => {
    await request(vault.server).get('/v1/no-such-thing/abc123').set(bearer(vault.adminToken));
    await request(vault.server).get('/wp-admin/setup.php');
    const text = await scrape();
    expect(sample(text, 'vault_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(2);
    expect(text).not.toMatch(/abc123|wp-admin/);
  });

  it('says which version runs, whether each store is reachable, and when each worker last succeeded', async () => {
    const before = await scrape();
    expect(sample(before, `vault_build_info{version="${VAULT_VERSION}",node="${process.versions.node}"}`)).toBe(1);
    for (const check of ['database', 'storage', 'epochKeys'])
      expect(sample(before, `vault_ready{check="${check}"}`), check).toBe(1);
    expect(before).toMatch(/^# TYPE vault_worker_last_success_timestamp_seconds gauge$/m);
    // Entries written by the tests above, with no sequencer running yet: a backlog, read from the database.
    const [{ n } = { n: -1 }] = await vault.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_log WHERE leaf_index IS NULL',
    );
    expect(n).toBeGreaterThan(0);
    expect(sample(before, 'vault_audit_unsequenced_entries')).toBe(n);
    expect(sample(before, 'vault_audit_unsequenced_age_seconds')).toBeGreaterThanOrEqual(0);

    const startedAt = Date.now() / 1000;
    const workers = vault.deps.startWorkers();
    try {
      const lastSuccess = async (worker: string) =>
        sample(await scrape(), `vault_worker_last_success_timestamp_seconds{worker="${worker}"}`);
      // Every worker src/workers.ts starts reports a successful run after it started (waited for, not timed).
      for (const worker of WORKER_NAMES)
        await waitFor(`${worker}'s first run`, async () => ((await lastSuccess(worker)) ?? 0) >= startedAt);
      for (const worker of WORKER_NAMES)
        expect(await lastSuccess(worker), worker).toBeLessThanOrEqual(Date.now() / 1000);
    } finally {
      await workers.stop();
    }
  });
});
