/**
 * Ingest benchmark (issue 6):
 *  - chunk upload through the vault's HTTP route (auth, hashing, storage put,
 *    database row, audit entry) vs the same bytes put straight into the same
 *    store (filesystem put, or S3 PutObject), same concurrency, as a ratio;
 *  - 2,000 simulated phones each sending one ~40 KB chunk every 10 s (real time,
 *    3 rounds: 200 chunks/s), with p50/p99 acknowledgement latency, errors and a
 *    final exactly-once check against the database and the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { mapLimit } from '../../src/concurrency.js';
import { loadConfig } from '../../src/config.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { recordConsent, registerOrder } from '../../src/domain/orders.js';
import type { Principal } from '../../src/domain/principal.js';
import { createPrincipal } from '../../src/domain/principals.js';
import { startRecording } from '../../src/domain/recordings.js';
import { createS3BlobStore } from '../../src/store/blobs/s3.js';
import { openVault } from '../../src/vault.js';
import { freshPostgresSchema } from '../../test/helpers/postgres.js';
import { startS3Server } from '../../test/helpers/s3.js';
import { openStores, type StorePair, type Stores } from '../../test/helpers/vault.js';
import { runClient } from './clients/run-client.js';
import type { BurstResult, PhonesResult, Target, UploaderJob } from './clients/uploader.js';
import type { BenchMetric, BenchSection } from './types.js';

const KB = 1024;
const progress = (m: string) => process.stderr.write(`  [ingest] ${m}\n`);
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

interface Rig {
  deps: DomainDeps;
  base: string;
  token: string;
  newRecording(): Promise<{ recordingId: string; contentKey: Uint8Array }>;
  close(): Promise<void>;
}

type BenchPair = StorePair;

async function openBenchStores(pair: BenchPair, dataDir: string): Promise<Stores> {
  if (pair === 'postgres+fs') return openStores(pair, dataDir);
  const pg = await freshPostgresSchema();
  // s3rver in a process of its own, as a real store would be: its work must not share the vault's event loop.
  const s3 = await startS3Server({ process: 'own' });
  const blobs = await createS3BlobStore({ config: s3.config, createBucket: true });
  return {
    db: pg.db,
    blobs,
    postgresSchema: pg.schema,
    // Epoch keys stay in the data dir: the ingest bench measures uploads, not the key store.
    env: {},
    cleanup: async () => {
      await blobs.close();
      await s3.stop();
      await pg.cleanup();
    },
  };
}

async function rig(pair: BenchPair): Promise<Rig> {
  const sodium = await getSodium();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-bench-ingest-'));
  const config = loadConfig({
    VAULT_DATA_DIR: dataDir,
    VAULT_KEKS: `1:${toBase64Url(sodium.randombytes_buf(32))}`,
    LOG_LEVEL: 'silent',
  });
  const stores = await openBenchStores(pair, dataDir);
  const deps = await openVault(config, {
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    stores: stores,
    defaultMetrics: false,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = createApp(deps).listen(0, '127.0.0.1', () => resolve(s));
  });
  const admin: Principal = { id: 'admin', name: 'a', department: 'it', roles: ['admin'] };
  const platform: Principal = { id: 'platform', name: 'p', department: 'p', roles: ['platform'] };
  const beautician: Principal = { id: 'bea', name: 'b', department: 'field', roles: ['beautician'] };
  await createPrincipal(deps, admin, platform);
  const { token } = await createPrincipal(deps, admin, beautician);
  const order = await registerOrder(deps, platform, {
    orderId: 'o1',
    beauticianId: 'bea',
    customerId: 'c',
    scheduledAt: new Date().toISOString(),
  });
  for (const party of ['beautician', 'customer'] as const)
    await recordConsent(deps, platform, 'o1', { party, decision: 'consent', mode: 'explicit', appVersion: 'bench' });
  const pk = fromBase64Url(order.publicKey)!;
  return {
    deps,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    async newRecording() {
      const contentKey = sodium.randombytes_buf(32);
      const { recordingId } = await startRecording(deps, beautician, 'o1', {
        sealedContentKey: sodium.crypto_box_seal(contentKey, pk),
        mimeType: 'audio/ogg',
      });
      return { recordingId, contentKey };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stores.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs one job in the uploader process (scripts/bench/clients/uploader.ts) and returns its result. */
function runUploader<R>(job: UploaderJob): Promise<R> {
  return runClient<R>(
    [...process.execArgv, fileURLToPath(new URL('./clients/uploader.ts', import.meta.url))],
    JSON.stringify(job),
  );
}

const target = (rec: { recordingId: string; contentKey: Uint8Array }): Target => ({
  recordingId: rec.recordingId,
  contentKey: toBase64Url(rec.contentKey),
});

/** Vault route vs direct store put, bodies of the same size, same concurrency. */
async function throughput(
  r: Rig,
  chunkBytes: number,
  count: number,
  concurrency: number,
): Promise<{ vaultMBps: number; ceilingMBps: number }> {
  const rec = await r.newRecording();
  const vault = await runUploader<BurstResult>({
    kind: 'burst',
    base: r.base,
    token: r.token,
    target: target(rec),
    chunkBytes,
    count,
    concurrency,
  });
  const body = new Uint8Array(chunkBytes).fill(7);
  const t1 = performance.now();
  await mapLimit(
    Array.from({ length: count - 1 }, (_, i) => i),
    concurrency,
    (i) => r.deps.blobs.put(`ceiling/${chunkBytes}/${i}`, body),
  );
  const ceilingSeconds = (performance.now() - t1) / 1000;
  const mb = vault.bytes / 2 ** 20;
  return { vaultMBps: mb / vault.seconds, ceilingMBps: mb / ceilingSeconds };
}

interface PhonesSummary {
  p50: number;
  p99: number;
  max: number;
  errors: number;
  errorKinds: Record<string, number>;
  acked: number;
  lost: number;
  duplicates: number;
  /** CPU the vault's process used while the phones sent, as % of one core (it is idle while they prepare) */
  vaultCpuPercent: number;
}

async function manyPhones(r: Rig, phones: number, rounds: number, periodMs: number): Promise<PhonesSummary> {
  progress(`starting ${phones} recordings`);
  const recs = await mapLimit(
    Array.from({ length: phones }, (_, i) => i),
    16,
    () => r.newRecording(),
  );
  progress(
    `${phones} phones × ${rounds} rounds, one chunk every ${periodMs / 1000} s each (${round((phones * 1000) / periodMs)} chunks/s)`,
  );
  const cpuBefore = process.cpuUsage();
  const result = await runUploader<PhonesResult>({
    kind: 'phones',
    base: r.base,
    token: r.token,
    targets: recs.map(target),
    rounds,
    periodMs,
    chunkBytes: 40 * KB,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const vaultCpuPercent = round(((cpu.user + cpu.system) / 1000 / result.sendingMs) * 100);
  const { latencies, acked, errorKinds } = result;
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? NaN;
  progress('checking every acknowledged chunk is stored exactly once');
  const rows = await r.deps.db.query<{ recording_id: string; seq: number; n: number }>(
    `SELECT recording_id, seq, count(*)::int AS n FROM chunks WHERE recording_id = ANY($1) GROUP BY recording_id, seq`,
    [recs.map((x) => x.recordingId)],
  );
  const stored = new Map(rows.map((x) => [`${x.recording_id}/${x.seq}`, x.n]));
  let lost = 0;
  let duplicates = 0;
  for (const a of acked) {
    const n = stored.get(`${a.recordingId}/${a.seq}`) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicates++;
  }
  const objects = await mapLimit(
    recs,
    16,
    async (x) => (await r.deps.blobs.list(`recordings/${x.recordingId}/`)).length,
  );
  const objectCount = objects.reduce((a, b) => a + b, 0);
  if (objectCount !== rows.length) lost += Math.max(0, rows.length - objectCount);
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    p50: round(q(0.5)),
    p99: round(q(0.99)),
    max: round(latencies.at(-1) ?? NaN),
    errors,
    errorKinds,
    acked: acked.length,
    lost,
    duplicates,
    vaultCpuPercent,
  };
}

export async function run(): Promise<BenchSection> {
  const metrics: Record<string, BenchMetric> = {};
  const notes: string[] = [];
  for (const pair of ['postgres+fs', 'postgres+s3'] as const) {
    const r = await rig(pair);
    try {
      for (const [label, size, count] of [
        ['40KB', 40 * KB, 300],
        ['1MB', 1024 * KB, 40],
      ] as const) {
        progress(`${pair}: ${count} chunks of ${label}, 8 at a time`);
        const t = await throughput(r, size, count, 8);
        const ratio = t.vaultMBps / t.ceilingMBps;
        metrics[`${pair} ${label} vault MB/s`] = { value: round(t.vaultMBps), unit: 'MB/s' };
        metrics[`${pair} ${label} direct store MB/s`] = { value: round(t.ceilingMBps), unit: 'MB/s' };
        metrics[`${pair} ${label} ratio`] = {
          value: round(ratio, 3),
          unit: 'ratio',
          goal: '>= 0.9',
          met: ratio >= 0.9,
        };
      }
    } finally {
      await r.close();
    }
  }
  for (const pair of ['postgres+fs', 'postgres+s3'] as const) {
    const r = await rig(pair);
    try {
      const m = await manyPhones(r, 2000, 3, 10_000);
      const k = `${pair} 2000 phones`;
      metrics[`${k} p50 ack`] = { value: m.p50, unit: 'ms' };
      metrics[`${k} p99 ack`] = { value: m.p99, unit: 'ms', goal: '< 100', met: m.p99 < 100 };
      metrics[`${k} max ack`] = { value: m.max, unit: 'ms' };
      metrics[`${k} vault CPU`] = { value: m.vaultCpuPercent, unit: '% of one core' };
      metrics[`${k} acknowledged`] = { value: m.acked, unit: 'chunks' };
      metrics[`${k} errors`] = { value: m.errors, unit: 'requests' };
      metrics[`${k} lost or duplicated`] = {
        value: m.lost + m.duplicates,
        unit: 'chunks',
        goal: '= 0',
        met: m.lost + m.duplicates === 0,
      };
      notes.push(`${k}: errors by kind ${JSON.stringify(m.errorKinds)}`);
    } finally {
      await r.close();
    }
  }
  notes.push(
    'Many phones: real time, not compressed: 2,000 recordings, 3 rounds of one 40 KB chunk per phone per 10 s (200 chunks/s), spread evenly, with keep-alive connections from one uploader process (scripts/bench/clients/uploader.ts, which encrypts every chunk before the clock starts) on the same 2 cores as the vault, PostgreSQL and s3rver (its own process too). Vault CPU = CPU of the bench process (the vault) while the phones send, as % of one core.',
  );
  notes.push(
    'Ceilings: postgres+fs = BlobStore.put on the filesystem (temp file, fsync, rename); postgres+s3 = BlobStore.put, i.e. one S3 PutObject to the same s3rver.',
  );
  return { stores: 'postgres+fs and postgres+s3 (s3rver)', metrics, notes };
}
