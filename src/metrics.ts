import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { READINESS_CHECKS, type Readiness } from './readiness.js';
import { VAULT_VERSION } from './version.js';

/**
 * Prometheus metrics, one registry per app instance (tests build many apps).
 * Served at /metrics. Labels never carry ids or secrets. Names end in their
 * unit, then `_total` for counters (Prometheus' naming); docs/alerts.yml
 * alerts on them, and its test checks it names only these.
 */
export interface Metrics {
  registry: Registry;
  chunksStored: Counter;
  chunkBytesStored: Counter;
  chunkUploadSeconds: Histogram;
  chunksDuplicate: Counter;
  chunksConflicting: Counter;
  chunksDigestMismatch: Counter;
  playbackStreams: Counter<'format'>;
  playbackBytes: Counter<'format'>;
  integrityFailures: Counter;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  /** from a request's arrival to the last byte of its answer (an audio stream's whole length) */
  httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  /** 1, labelled with the vault's version and Node's */
  buildInfo: Gauge<'version' | 'node'>;
  /** Unix time of each background worker's last successful run (src/workers.ts): a hung worker stops moving it */
  workerLastSuccess: Gauge<'worker'>;
  /** 1 when the check passes, 0 when not, pinged at each scrape: what /readyz answers, for alerting */
  ready: Gauge<'check'>;
  /** audit entries committed but not yet in the Merkle tree, and the age of the oldest, read at each scrape */
  auditUnsequenced: Gauge;
  auditUnsequencedAgeSeconds: Gauge;
  sweeperRuns: Counter<'outcome'>;
  recordingsExpired: Counter;
  recordingsIncomplete: Counter;
  /** epoch keys (kind="epoch") and legal holds' own keys (kind="hold") destroyed by the sweeper */
  epochKeysDestroyed: Counter<'kind'>;
  /** seconds since the epoch of the oldest live epoch key began (hold keys aside); set by the sweeper */
  epochKeyOldestAgeSeconds: Gauge;
}

export interface MetricsOptions {
  /** process-wide default metrics (CPU, memory, event loop) */
  defaultMetrics?: boolean;
  /** the stores' readiness, asked at each scrape for `vault_ready` (src/readiness.ts) */
  readiness?: () => Promise<Readiness>;
  /** the audit entries not yet sequenced, asked at each scrape (src/audit/backlog.ts) */
  auditBacklog?: () => Promise<{ entries: number; oldestAgeSeconds: number }>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const buildInfo = new Gauge({
    name: 'vault_build_info',
    help: 'Always 1: the version of the vault and of Node.js this server runs',
    labelNames: ['version', 'node'],
    registers,
  });
  buildInfo.set({ version: VAULT_VERSION, node: process.versions.node }, 1);
  const { readiness, auditBacklog } = options;
  // One query per scrape for both gauges: the count's collect reads it, the age's is set from the same answer.
  const auditUnsequencedAgeSeconds = new Gauge({
    name: 'vault_audit_unsequenced_age_seconds',
    help: 'Seconds since the oldest audit entry not yet sequenced happened (0 when none), checked at each scrape',
    registers,
  });
  return {
    registry,
    chunksStored: new Counter({ name: 'vault_chunks_stored_total', help: 'Chunks stored (first time)', registers }),
    chunkBytesStored: new Counter({
      name: 'vault_chunks_stored_bytes_total',
      help: 'Ciphertext bytes stored',
      registers,
    }),
    chunkUploadSeconds: new Histogram({
      name: 'vault_chunk_upload_seconds',
      help: 'Time from chunk received to acknowledged',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    chunksDuplicate: new Counter({
      name: 'vault_chunks_duplicate_total',
      help: 'Chunks sent again with the same body',
      registers,
    }),
    chunksConflicting: new Counter({
      name: 'vault_chunks_conflicting_total',
      help: 'Chunks refused: different body under a stored seq',
      registers,
    }),
    chunksDigestMismatch: new Counter({
      name: 'vault_chunks_digest_mismatch_total',
      help: 'Chunks refused: body does not match its Content-Digest (damaged in transit)',
      registers,
    }),
    playbackStreams: new Counter({
      name: 'vault_playback_streams_total',
      help: 'Audio streams started',
      labelNames: ['format'],
      registers,
    }),
    playbackBytes: new Counter({
      name: 'vault_playback_bytes_total',
      help: 'Audio bytes sent',
      labelNames: ['format'],
      registers,
    }),
    integrityFailures: new Counter({
      name: 'vault_integrity_failures_total',
      help: 'Chunks that did not authenticate on playback',
      registers,
    }),
    httpRequests: new Counter({
      name: 'vault_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpRequestSeconds: new Histogram({
      name: 'vault_http_request_duration_seconds',
      help: 'HTTP request latency by route and status, to the last byte of the answer',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    buildInfo,
    workerLastSuccess: new Gauge({
      name: 'vault_worker_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run of each background worker',
      labelNames: ['worker'],
      registers,
    }),
    ready: new Gauge({
      name: 'vault_ready',
      help: 'Readiness of each store the vault needs (1 reachable, 0 not), checked at each scrape',
      labelNames: ['check'],
      registers,
      async collect() {
        if (!readiness) return;
        const checks = await readiness();
        for (const check of READINESS_CHECKS) this.set({ check }, checks[check] === 'ok' ? 1 : 0);
      },
    }),
    auditUnsequenced: new Gauge({
      name: 'vault_audit_unsequenced_entries',
      help: 'Audit entries committed but not yet integrated into the Merkle tree, checked at each scrape',
      registers,
      async collect() {
        if (!auditBacklog) return;
        // While the database is down the backlog cannot be read: the scrape still answers, without these two
        // samples, and vault_ready{check="database"} 0 says why (docs/alerts.yml pages on it).
        const backlog = await auditBacklog().catch(() => null);
        if (!backlog) {
          this.reset();
          auditUnsequencedAgeSeconds.reset();
          return;
        }
        this.set(backlog.entries);
        auditUnsequencedAgeSeconds.set(backlog.oldestAgeSeconds);
      },
    }),
    auditUnsequencedAgeSeconds,
    sweeperRuns: new Counter({
      name: 'vault_sweeper_runs_total',
      help: 'Sweeper runs',
      labelNames: ['outcome'],
      registers,
    }),
    recordingsExpired: new Counter({
      name: 'vault_recordings_expired_total',
      help: 'Recordings expired and deleted',
      registers,
    }),
    recordingsIncomplete: new Counter({
      name: 'vault_recordings_incomplete_total',
      help: 'Recordings marked incomplete',
      registers,
    }),
    epochKeysDestroyed: new Counter({
      name: 'vault_epoch_keys_destroyed_total',
      help: 'Epoch keys destroyed after their epoch and the backup window (kind: epoch or hold)',
      labelNames: ['kind'],
      registers,
    }),
    epochKeyOldestAgeSeconds: new Gauge({
      name: 'vault_epoch_key_oldest_age_seconds',
      help: 'Seconds since the epoch of the oldest epoch key not yet destroyed began (hold keys aside), as of the last sweep',
      registers,
    }),
  };
}
