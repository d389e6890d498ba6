/**
 * Playback benchmark (issues 3 and 17), on PostgreSQL + filesystem:
 *  - throughput of `format=original` through HTTP vs a bare HTTP read +
 *    decrypt + stream loop with the same prefetch and decryptor, and vs raw
 *    decryption of the same chunks in memory (sodium-native, which the server
 *    uses, and libsodium-wrappers, the phone's), as ratios;
 *  - time to first byte for a 2-hour recording (720 chunks of ~40 KB);
 *  - RSS growth while streaming a 1 GiB recording.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { chunkAad, decryptChunk, encryptChunk, NONCE_BYTES } from '../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { decideRequest, fileRequest } from '../../src/domain/access-requests.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { recordConsent, registerOrder } from '../../src/domain/orders.js';
import { PREFETCH_CHUNKS } from '../../src/domain/playback.js';
import type { Principal } from '../../src/domain/principal.js';
import { createPrincipal } from '../../src/domain/principals.js';
import { completeRecording, putChunk, startRecording } from '../../src/domain/recordings.js';
import { createFilesystemBlobStore } from '../../src/store/blobs/filesystem.js';
import { openVault } from '../../src/vault.js';
import { freshPostgresSchema } from '../../test/helpers/postgres.js';
import { runClient } from './clients/run-client.js';
import type { BenchOptions, BenchSection } from './types.js';

const MiB = 1024 * 1024;
// The 1 GiB recording: 2,048 chunks of 512 KiB (256 of them in a --short run).
const BIG_CHUNK_BYTES = 512 * 1024;
const progress = (message: string): void => {
  process.stderr.write(`  [playback] ${message}\n`);
};

interface Fixture {
  deps: DomainDeps;
  baseUrl: string;
  token: string;
  requestId: string;
  /** uploads a sealed recording of `chunks` chunks of `chunkBytes` plaintext bytes each */
  upload(chunks: number, chunkBytes: number): Promise<{ recordingId: string; contentKey: Uint8Array }>;
  close(): Promise<void>;
}

async function setUp(): Promise<Fixture> {
  const sodium = await getSodium();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-bench-playback-'));
  const kek = toBase64Url(sodium.randombytes_buf(32));
  const config = loadConfig({
    VAULT_DATA_DIR: dataDir,
    VAULT_KEKS: `1:${kek}`,
    LOG_LEVEL: 'silent',
    VAULT_MAX_CHUNK_BYTES: String(2 * MiB),
    // The bench measures playback, not sign-offs: its two heads approve unsigned.
    VAULT_REQUIRE_SIGNED_DECISIONS: 'false',
  });
  const pg = await freshPostgresSchema();
  const db = pg.db;
  const blobs = await createFilesystemBlobStore(path.join(dataDir, 'objects'));
  const deps = await openVault(config, {
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    stores: { db, blobs },
    defaultMetrics: false,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = createApp(deps).listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const admin: Principal = { id: 'bench-admin', name: 'admin', department: 'it', roles: ['admin'] };
  const staff: Principal = { id: 'bench-staff', name: 'staff', department: 'disputes', roles: ['dispute_staff'] };
  const dh: Principal = { id: 'bench-dh', name: 'dh', department: 'disputes', roles: ['department_head'] };
  const sh: Principal = { id: 'bench-sh', name: 'sh', department: 'security', roles: ['security_head'] };
  const platform: Principal = { id: 'bench-platform', name: 'platform', department: 'platform', roles: ['platform'] };
  const beautician: Principal = { id: 'bench-beautician', name: 'b', department: 'field', roles: ['beautician'] };
  let token = '';
  for (const p of [staff, dh, sh, platform, beautician]) {
    const issued = await createPrincipal(deps, admin, p);
    if (p === staff) token = issued.token;
  }
  const orderId = 'bench-order';
  const { publicKey } = await registerOrder(deps, platform, {
    orderId,
    beauticianId: beautician.id,
    customerId: 'c',
    scheduledAt: new Date().toISOString(),
  });
  for (const party of ['beautician', 'customer'] as const)
    await recordConsent(deps, platform, orderId, { party, decision: 'consent', mode: 'explicit', appVersion: 'bench' });
  const filed = await fileRequest(deps, staff, {
    orderId,
    purpose: 'compliance_check',
    reason: 'benchmark',
    ticketRef: 'BENCH-1',
  });
  await decideRequest(deps, dh, filed.id, { decision: 'approve', comment: 'bench' });
  await decideRequest(deps, sh, filed.id, { decision: 'approve', comment: 'bench' });

  const orderPublicKey = fromBase64Url(publicKey);
  if (!orderPublicKey) throw new Error('no order public key');
  const upload = async (chunks: number, chunkBytes: number) => {
    const contentKey = sodium.randombytes_buf(32);
    const sealedContentKey = sodium.crypto_box_seal(contentKey, orderPublicKey);
    const { recordingId } = await startRecording(deps, beautician, orderId, {
      sealedContentKey,
      mimeType: 'audio/ogg',
    });
    const plaintext = sodium.randombytes_buf(chunkBytes);
    for (let seq = 0; seq < chunks; seq++) {
      const body = encryptChunk({ contentKey, recordingId, seq, final: seq === chunks - 1, plaintext });
      await putChunk(deps, beautician, recordingId, seq, Buffer.from(body));
    }
    await completeRecording(deps, beautician, recordingId, chunks);
    return { recordingId, contentKey };
  };

  return {
    deps,
    baseUrl,
    token,
    requestId: filed.id,
    upload,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await blobs.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The HTTP client runs in its own process, as a real listener would, so its
 * parsing neither slows the server's event loop nor counts in the server's RSS.
 * It discards the body and reports time to first byte, total time and bytes.
 */
const CLIENT = `
const http = require('node:http');
const [url, token] = process.argv.slice(1);
const t0 = performance.now();
let ttfbMs = -1, bytes = 0;
http.get(url, { headers: { authorization: 'Bearer ' + token } }, (res) => {
  if (res.statusCode !== 200) { process.stdout.write(JSON.stringify({ status: res.statusCode })); res.resume(); return; }
  res.on('data', (c) => { if (ttfbMs < 0) ttfbMs = performance.now() - t0; bytes += c.length; });
  res.on('end', () => process.stdout.write(JSON.stringify({ status: 200, ttfbMs, totalMs: performance.now() - t0, bytes })));
  res.on('error', (e) => { process.stdout.write(JSON.stringify({ status: 0, error: String(e) })); });
}).on('error', (e) => process.stdout.write(JSON.stringify({ status: 0, error: String(e) })));
`;

/** Streams one recording through HTTP to a client process. */
async function play(
  f: Fixture,
  recordingId: string,
  url = `${f.baseUrl}/v1/access-requests/${f.requestId}/recordings/${recordingId}/audio`,
): Promise<{ ttfbMs: number; totalMs: number; bytes: number }> {
  const result = await runClient<{
    status?: number;
    ttfbMs?: number;
    totalMs?: number;
    bytes?: number;
    error?: string;
  }>(['-e', CLIENT, url, f.token]);
  if (
    result.status !== 200 ||
    result.ttfbMs === undefined ||
    result.totalMs === undefined ||
    result.bytes === undefined
  ) {
    throw new Error(`playback client failed: ${JSON.stringify(result)}`);
  }
  return { ttfbMs: result.ttfbMs, totalMs: result.totalMs, bytes: result.bytes };
}

/** The ceilings: the same stored chunks, already in memory, decrypted and nothing else (the server's sodium-native, and libsodium-wrappers). */
async function rawDecrypt(
  f: Fixture,
  recordingId: string,
  contentKey: Uint8Array,
): Promise<{ nativeMs: number; wrappersMs: number; bytes: number }> {
  const rows = await f.deps.db.query<{ seq: number; object_key: string }>(
    'SELECT seq, object_key FROM chunks WHERE recording_id = $1 ORDER BY seq',
    [recordingId],
  );
  const chunks: Buffer[] = [];
  for (const r of rows) chunks.push((await f.deps.blobs.get(r.object_key)) ?? Buffer.alloc(0));
  const sodium = await getSodium();
  let t0 = performance.now();
  let bytes = 0;
  for (const [seq, chunk] of chunks.entries()) {
    bytes += decryptChunk({ contentKey, recordingId, seq, final: seq === chunks.length - 1, chunk }).length;
  }
  const nativeMs = performance.now() - t0;
  t0 = performance.now();
  for (const [seq, chunk] of chunks.entries()) {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      chunk.subarray(1 + NONCE_BYTES),
      chunkAad(recordingId, seq, seq === chunks.length - 1),
      chunk.subarray(1, 1 + NONCE_BYTES),
      contentKey,
    );
  }
  return { nativeMs, wrappersMs: performance.now() - t0, bytes };
}

/**
 * A second reference: the least a server can do over the same storage, a bare
 * HTTP handler that gets, decrypts and writes each chunk (no authorisation, no
 * database, no audit, no stream machinery). Served to the same client process,
 * it shows how much of the gap to the ceiling is ours and how much is storage
 * reads and socket writes.
 */
async function bareServer(
  f: Fixture,
  recordingId: string,
  contentKey: Uint8Array,
): Promise<{ url: string; close(): Promise<void> }> {
  const rows = await f.deps.db.query<{ object_key: string }>(
    'SELECT object_key FROM chunks WHERE recording_id = $1 ORDER BY seq',
    [recordingId],
  );
  const keys = rows.map((r) => r.object_key);
  const server = createServer((_req, res) => {
    void (async () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // The same read-ahead as the vault's stream (PREFETCH_CHUNKS gets in flight).
      const inFlight = new Map<number, Promise<Buffer | null>>();
      for (const [seq, key] of keys.entries()) {
        for (let s = seq; s < Math.min(keys.length, seq + PREFETCH_CHUNKS); s++) {
          const k = keys[s];
          if (!inFlight.has(s) && k !== undefined) inFlight.set(s, f.deps.blobs.get(k));
        }
        const chunk = await inFlight.get(seq);
        inFlight.delete(seq);
        if (!chunk) throw new Error(`chunk ${seq} (${key}) missing`);
        const plain = decryptChunk({ contentKey, recordingId, seq, final: seq === keys.length - 1, chunk });
        if (!res.write(plain)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    })().catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose_gc');
  const gc: unknown = vm.runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('could not expose gc');
  return gc as () => void;
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const reps = options.short ? 2 : 7;
  const bigChunks = options.short ? 256 : 2048;
  const gc = exposeGc();
  const f = await setUp();
  try {
    // 2 hours of ~40 KB chunks (one every 10 s at 32 kbit/s).
    let t = performance.now();
    const twoHours = await f.upload(720, 40_000);
    progress(`uploaded the 2-hour recording in ${Math.round(performance.now() - t)} ms`);
    const bare = await bareServer(f, twoHours.recordingId, twoHours.contentKey);
    await play(f, twoHours.recordingId); // warm-up
    await play(f, twoHours.recordingId, bare.url);
    const ceilings: number[] = [];
    const wrappers: number[] = [];
    const playbacks: number[] = [];
    const bares: number[] = [];
    const ttfbs: number[] = [];
    // Interleaved, so that a noisy neighbour slows all three alike.
    for (let i = 0; i < reps; i++) {
      const raw = await rawDecrypt(f, twoHours.recordingId, twoHours.contentKey);
      ceilings.push(raw.bytes / MiB / (raw.nativeMs / 1000));
      wrappers.push(raw.bytes / MiB / (raw.wrappersMs / 1000));
      const p = await play(f, twoHours.recordingId);
      if (p.bytes !== raw.bytes) throw new Error(`played ${p.bytes} bytes, expected ${raw.bytes}`);
      playbacks.push(p.bytes / MiB / (p.totalMs / 1000));
      ttfbs.push(p.ttfbMs);
      const b = await play(f, twoHours.recordingId, bare.url);
      bares.push(b.bytes / MiB / (b.totalMs / 1000));
    }
    await bare.close();
    for (let i = 0; i < reps + 1; i++) ttfbs.push((await play(f, twoHours.recordingId)).ttfbMs);
    progress(
      `measured: playback ${median(playbacks).toFixed(1)} MiB/s, bare ${median(bares).toFixed(1)} MiB/s, ceiling ${median(ceilings).toFixed(1)} MiB/s, ttfb ${median(ttfbs).toFixed(1)} ms`,
    );
    const ceiling = median(ceilings);
    const playback = median(playbacks);
    const ttfb = median(ttfbs);
    const bareThroughput = median(bares);

    t = performance.now();
    const big = await f.upload(bigChunks, BIG_CHUNK_BYTES);
    progress(
      `uploaded the ${(bigChunks * BIG_CHUNK_BYTES) / MiB} MiB recording in ${Math.round(performance.now() - t)} ms`,
    );
    gc();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const streamed = await play(f, big.recordingId);
    clearInterval(sampler);
    progress(`streamed ${streamed.bytes} bytes in ${Math.round(streamed.totalMs)} ms`);
    if (streamed.bytes !== bigChunks * BIG_CHUNK_BYTES)
      throw new Error(`streamed ${streamed.bytes} bytes of ${bigChunks * BIG_CHUNK_BYTES}`);
    const growth = (peak - baseline) / MiB;
    const streamedMiB = (bigChunks * BIG_CHUNK_BYTES) / MiB;

    const ratio = playback / ceiling;
    return {
      stores: 'postgres+fs',
      metrics: {
        'original playback throughput (2h recording)': {
          value: round(playback),
          unit: 'MiB/s',
          goal: '>= 108 (2× the 54 MiB/s of issue 17)',
          met: playback >= 108,
        },
        'bare read+decrypt+stream loop, same prefetch, decryptor and client': {
          value: round(bareThroughput),
          unit: 'MiB/s',
        },
        'playback / bare loop': {
          value: round(playback / bareThroughput),
          unit: 'ratio',
          goal: '>= 0.8',
          met: playback / bareThroughput >= 0.8,
        },
        'raw decryption, sodium-native (the server), same chunks': { value: round(ceiling), unit: 'MiB/s' },
        'raw decryption, libsodium-wrappers (the phone), same chunks': {
          value: round(median(wrappers)),
          unit: 'MiB/s',
        },
        'playback / raw sodium-native decryption': { value: round(ratio), unit: 'ratio' },
        [`time to first byte, 2h recording (median of ${ttfbs.length})`]: {
          value: round(ttfb, 1),
          unit: 'ms',
          goal: '< 150',
          met: ttfb < 150,
        },
        [`RSS growth streaming ${streamedMiB} MiB`]: {
          value: round(growth, 1),
          unit: 'MiB',
          goal: '< 64',
          met: growth < 64,
        },
        [`${streamedMiB} MiB streaming throughput`]: {
          value: round(streamed.bytes / MiB / (streamed.totalMs / 1000)),
          unit: 'MiB/s',
        },
      },
      notes: [
        `${options.short ? 'SHORT RUN (a check, not figures to report): ' : ''}${reps} interleaved rounds of raw decryption, vault playback and the bare loop; medians`,
        'the HTTP client runs in a separate process; RSS is the server process only, sampled every 20 ms',
        'raw decryption: chunks already in memory, decrypt only; playback: HTTP GET format=original end to end (auth, DB, audit, storage, decrypt, socket); bare loop: node:http, the same BlobStore.get with the same read-ahead, decryptChunk, res.write with backpressure',
      ],
    };
  } finally {
    await f.close();
  }
}
