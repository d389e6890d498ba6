/**
 * Ingest benchmark (issue 17), every figure beside its references in the same
 * run, under the same load generator (clients/uploader.ts, its own process):
 *  - the vault's chunk PUT (auth, hash, durable object write, chunk row and
 *    audit entry committed before the answer);
 *  - bare node:http + the same durable write (references/bare-http.ts): the ceiling;
 *  - tus-node-server with its file store, fsynced (references/tus.ts): the peer
 *    (postgres+fs only: it has no S3 store here).
 * Two loads: 8 uploads in flight (chunks/s), and 2,000 phones each sending one
 * 40 KB chunk every 10 s for 30 s (200 chunks/s): delivered/s beside p50/p99
 * acknowledgement, and for the vault an exactly-once check against the
 * database and the store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { mapLimit } from '../../src/concurrency.js';
import { loadConfig } from '../../src/config.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { recordConsent, registerOrder } from '../../src/domain/orders.js';
import type { Principal } from '../../src/domain/principal.js';
import { createPrincipal } from '../../src/domain/principals.js';
import { startRecording } from '../../src/domain/recordings.js';
import { createFilesystemBlobStore } from '../../src/store/blobs/filesystem.js';
import { createS3BlobStore } from '../../src/store/blobs/s3.js';
import { openVault, type Vault } from '../../src/vault.js';
import type { Workers } from '../../src/workers.js';
import { freshPostgresSchema } from '../../test/helpers/postgres.js';
import { startS3Server } from '../../test/helpers/s3.js';
import { openStores, type StorePair, type Stores } from '../../test/helpers/vault.js';
import { runClient } from './clients/run-client.js';
import type { BurstResult, PhonesResult, Protocol, Target, UploaderJob } from './clients/uploader.js';
import { type Reference, startBareHttp } from './references/bare-http.js';
import { startTus } from './references/tus.js';
import { type BenchMetric, type BenchOptions, type BenchSection, wantedPair, wantedPart } from './types.js';

const KB = 1024;
const PHONES = 2000;
const PERIOD_MS = 10_000;
const progress = (m: string) => process.stderr.write(`  [ingest] ${m}\n`);
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

type ServerKind = 'vault' | 'bare' | 'tus';
const SERVER_LABEL: Record<ServerKind, string> = {
  vault: 'vault',
  bare: 'bare http + durable write',
  tus: 'tus-node-server + fsync',
};

interface Rig {
  vault: Vault;
  stores: Stores;
  protocols: Partial<Record<ServerKind, Protocol>>;
  newRecording(): Promise<Target>;
  close(): Promise<void>;
}

async function openBenchStores(pair: StorePair, dataDir: string): Promise<Stores> {
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

const listen = (vault: Vault): Promise<Server> =>
  new Promise<Server>((resolve) => {
    const s = createApp(vault).listen(0, '127.0.0.1', () => resolve(s));
  });

async function rig(pair: StorePair): Promise<Rig> {
  const sodium = await getSodium();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-bench-ingest-'));
  const config = loadConfig({
    VAULT_DATA_DIR: dataDir,
    VAULT_KEKS: `1:${toBase64Url(sodium.randombytes_buf(32))}`,
    LOG_LEVEL: 'silent',
  });
  const stores = await openBenchStores(pair, dataDir);
  const vault = await openVault(config, {
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    stores,
    defaultMetrics: false,
  });
  // As a server runs: its background workers (sweeper, audit sequencer) beside the uploads.
  const workers: Workers = vault.startWorkers();
  const server = await listen(vault);
  const admin: Principal = { id: 'admin', name: 'a', department: 'it', roles: ['admin'] };
  const platform: Principal = { id: 'platform', name: 'p', department: 'p', roles: ['platform'] };
  const beautician: Principal = { id: 'bea', name: 'b', department: 'field', roles: ['beautician'] };
  await createPrincipal(vault, admin, platform);
  const { token } = await createPrincipal(vault, admin, beautician);
  const order = await registerOrder(vault, platform, {
    orderId: 'o1',
    beauticianId: 'bea',
    customerId: 'c',
    scheduledAt: new Date().toISOString(),
  });
  for (const party of ['beautician', 'customer'] as const)
    await recordConsent(vault, platform, 'o1', { party, decision: 'consent', mode: 'explicit', appVersion: 'bench' });
  const pk = fromBase64Url(order.publicKey);
  if (!pk) throw new Error('no order public key');

  // The references, on the same kind of store, in this same process (the vault's process).
  const refs: Reference[] = [];
  const refBlobs =
    pair === 'postgres+fs' ? await createFilesystemBlobStore(path.join(dataDir, 'bare-objects')) : stores.blobs;
  const bare = await startBareHttp(refBlobs);
  refs.push(bare);
  const protocols: Rig['protocols'] = {
    vault: { kind: 'vault', base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token },
    bare: { kind: 'bare', base: bare.base },
  };
  if (pair === 'postgres+fs') {
    const tus = await startTus(path.join(dataDir, 'tus'));
    refs.push(tus);
    protocols.tus = { kind: 'tus', base: tus.base };
  }
  return {
    vault,
    stores,
    protocols,
    async newRecording() {
      const contentKey = sodium.randombytes_buf(32);
      const { recordingId } = await startRecording(vault, beautician, 'o1', {
        sealedContentKey: sodium.crypto_box_seal(contentKey, pk),
        mimeType: 'audio/ogg',
      });
      return { recordingId, contentKey: toBase64Url(contentKey) };
    },
    async close() {
      for (const r of refs) await r.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await workers.stop();
      await vault.close();
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

/** A target for a reference server: any id and key (the references neither decrypt nor check them). */
const freeTarget = (): Target => ({
  recordingId: `ref_${randomBytes(12).toString('hex')}`,
  contentKey: toBase64Url(randomBytes(32)),
});

async function targetsFor(r: Rig, kind: ServerKind, n: number): Promise<Target[]> {
  if (kind !== 'vault') return Array.from({ length: n }, freeTarget);
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    16,
    () => r.newRecording(),
  );
}

/** `count` chunks of `chunkBytes`, `concurrency` at a time, to one recording; chunks/s. */
async function burst(r: Rig, kind: ServerKind, chunkBytes: number, count: number, concurrency: number) {
  const protocol = r.protocols[kind];
  if (!protocol) throw new Error(`no ${kind} server on this pair`);
  const [target] = await targetsFor(r, kind, 1);
  if (!target) throw new Error('no target');
  const result = await runUploader<BurstResult>({ kind: 'burst', protocol, target, chunkBytes, count, concurrency });
  return { chunksPerSecond: result.chunks / result.seconds, mbPerSecond: result.bytes / 2 ** 20 / result.seconds };
}

interface PhonesSummary {
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  errorKinds: Record<string, number>;
  acked: number;
  /** CPU of this process (the server under test) while the phones sent, as % of one core */
  serverCpuPercent: number;
  /** the vault only: acknowledged chunks missing from the database or the store, or stored twice */
  lost?: number;
  duplicates?: number;
}

async function phones(r: Rig, kind: ServerKind, rounds: number): Promise<PhonesSummary> {
  const protocol = r.protocols[kind];
  if (!protocol) throw new Error(`no ${kind} server on this pair`);
  progress(`${SERVER_LABEL[kind]}: preparing ${PHONES} phones`);
  const targets = await targetsFor(r, kind, PHONES);
  progress(
    `${SERVER_LABEL[kind]}: ${PHONES} phones × ${rounds} rounds, one 40 KB chunk every ${PERIOD_MS / 1000} s each (${round((PHONES * 1000) / PERIOD_MS)} chunks/s)`,
  );
  const cpuBefore = process.cpuUsage();
  const result = await runUploader<PhonesResult>({
    kind: 'phones',
    protocol,
    targets,
    rounds,
    periodMs: PERIOD_MS,
    chunkBytes: 40 * KB,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const { latencies, acked, errorKinds } = result;
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? Number.NaN;
  const summary: PhonesSummary = {
    deliveredPerSecond: round(acked.length / (result.sendingMs / 1000)),
    p50: round(q(0.5)),
    p99: round(q(0.99)),
    max: round(latencies.at(-1) ?? Number.NaN),
    errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
    errorKinds,
    acked: acked.length,
    serverCpuPercent: round(((cpu.user + cpu.system) / 1000 / result.sendingMs) * 100),
  };
  if (kind === 'vault') Object.assign(summary, await exactlyOnce(r, targets, acked));
  return summary;
}

/** Every acknowledged chunk has one row, and every row one object. */
async function exactlyOnce(
  r: Rig,
  targets: Target[],
  acked: PhonesResult['acked'],
): Promise<{ lost: number; duplicates: number }> {
  progress('checking every acknowledged chunk is stored exactly once');
  const rows = await r.vault.db.query<{ recording_id: string; seq: number; n: number }>(
    'SELECT recording_id, seq, count(*)::int AS n FROM chunks WHERE recording_id = ANY($1) GROUP BY recording_id, seq',
    [targets.map((x) => x.recordingId)],
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
    targets,
    16,
    async (x) => (await r.vault.blobs.list(`recordings/${x.recordingId}/`)).length,
  );
  const objectCount = objects.reduce((a, b) => a + b, 0);
  if (objectCount < rows.length) lost += rows.length - objectCount;
  return { lost, duplicates };
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const metrics: Record<string, BenchMetric> = {};
  const notes: string[] = [];
  const pairs = (['postgres+fs', 'postgres+s3'] as const).filter((p) => wantedPair(options, p));
  const reps = options.short ? 1 : 3;
  const burstCount = options.short ? 150 : 400;
  const rounds = options.short ? 1 : 3;
  for (const pair of pairs) {
    const r = await rig(pair);
    const kinds = (['vault', 'bare', 'tus'] as const).filter((k) => r.protocols[k]);
    try {
      if (wantedPart(options, 'burst')) {
        for (const [label, size, count] of [
          ['40KB', 40 * KB, burstCount],
          ['1MB', 1024 * KB, options.short ? 20 : 60],
        ] as const) {
          progress(`${pair}: ${count} chunks of ${label}, 8 in flight, ${reps}× each server, interleaved`);
          const rates: Record<string, number[]> = {};
          for (let i = 0; i < reps; i++) {
            for (const kind of label === '40KB' ? kinds : (['vault', 'bare'] as const)) {
              const t = await burst(r, kind, size, count, 8);
              rates[kind] = [...(rates[kind] ?? []), t.chunksPerSecond];
            }
          }
          for (const [kind, xs] of Object.entries(rates)) {
            metrics[`${pair} ${label} 8 in flight: ${SERVER_LABEL[kind as ServerKind]}`] = {
              value: round(median(xs)),
              unit: 'chunks/s',
            };
          }
          const ratio = median(rates.vault ?? []) / median(rates.bare ?? []);
          metrics[`${pair} ${label} 8 in flight: vault / bare`] = {
            value: round(ratio, 3),
            unit: 'ratio',
            goal: '>= 0.8',
            met: ratio >= 0.8,
          };
          if (rates.tus) {
            const tusRatio = median(rates.tus) / median(rates.bare ?? []);
            metrics[`${pair} ${label} 8 in flight: tus / bare`] = { value: round(tusRatio, 3), unit: 'ratio' };
          }
        }
      }
      if (wantedPart(options, 'phones')) {
        const results: Partial<Record<ServerKind, PhonesSummary>> = {};
        for (const kind of kinds) {
          const m = await phones(r, kind, rounds);
          results[kind] = m;
          const k = `${pair} ${PHONES} phones: ${SERVER_LABEL[kind]}`;
          const target = PHONES / (PERIOD_MS / 1000);
          metrics[`${k} delivered`] = {
            value: m.deliveredPerSecond,
            unit: 'chunks/s',
            goal: `>= ${target * 0.98}`,
            met: m.deliveredPerSecond >= target * 0.98,
          };
          metrics[`${k} p50 ack`] = { value: m.p50, unit: 'ms' };
          metrics[`${k} p99 ack`] =
            kind === 'vault'
              ? { value: m.p99, unit: 'ms', goal: '< 100', met: m.p99 < 100 }
              : { value: m.p99, unit: 'ms' };
          metrics[`${k} max ack`] = { value: m.max, unit: 'ms' };
          metrics[`${k} server CPU`] = { value: m.serverCpuPercent, unit: '% of one core' };
          metrics[`${k} errors`] = { value: m.errors, unit: 'requests' };
          if (m.errors > 0) notes.push(`${k}: errors by kind ${JSON.stringify(m.errorKinds)}`);
          if (m.lost !== undefined && m.duplicates !== undefined) {
            metrics[`${k} acknowledged`] = { value: m.acked, unit: 'chunks' };
            metrics[`${k} lost or duplicated`] = {
              value: m.lost + m.duplicates,
              unit: 'chunks',
              goal: '= 0',
              met: m.lost + m.duplicates === 0,
            };
          }
        }
        const vault = results.vault;
        const tus = results.tus;
        if (vault && tus)
          metrics[`${pair} ${PHONES} phones: vault p99 / tus p99`] = {
            value: round(vault.p99 / tus.p99, 2),
            unit: 'ratio',
            goal: '<= 1',
            met: vault.p99 <= tus.p99,
          };
      }
    } finally {
      await r.close();
    }
  }
  notes.push(
    `${options.short ? 'SHORT RUN (a check, not figures to report): ' : ''}bursts: ${burstCount} chunks of 40 KB (and of 1 MB) to one recording, 8 in flight, each server ${reps}×, interleaved, median; phones: ${PHONES} recordings, ${rounds} round(s) of one 40 KB chunk per phone per ${PERIOD_MS / 1000} s, spread evenly, keep-alive connections.`,
  );
  notes.push(
    'One load generator (scripts/bench/clients/uploader.ts, its own process; chunks encrypted before the clock starts) for every server. The vault and the references run one after another in the bench process, on the same 2 cores as PostgreSQL and the client. delivered = acknowledged chunks / time from the first send to the last answer: once a server is over capacity, its p99 only measures how far the queue grew.',
  );
  notes.push(
    'References: bare http = node:http reading the body and calling the same BlobStore.put as the vault (fs: temp file, fsync, rename, dir fsync; s3: one PutObject), no auth, no database; tus = @tus/server + @tus/file-store with an fsync of the data file after the write and of the metadata file and directory at creation (upstream never fsyncs), one creation-with-upload POST per chunk.',
  );
  return { stores: pairs.map((p) => (p === 'postgres+s3' ? 'postgres+s3 (s3rver)' : p)).join(' and '), metrics, notes };
}
