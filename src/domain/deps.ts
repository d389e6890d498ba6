import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { LogKey } from '../crypto/log-key.js';
import type { IdGenerator } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { Database } from '../store/db/database.js';
import type { ChunkCommits } from './chunk-commits.js';
import type { EpochKeys } from './epoch-keyring.js';

/** What the domain rules receive: stores, keys, a clock and an id generator. No globals. */
export interface DomainDeps {
  config: Config;
  db: Database;
  blobs: BlobStore;
  keyring: Keyring;
  /** epoch keys, kept outside the database; they wrap the order keys */
  epochKeys: EpochKeys;
  /** the audit log's Ed25519 key: signs checkpoints, upload receipts and shred receipts */
  logKey: LogKey;
  /** where signed checkpoints are published outside the database */
  checkpoints: CheckpointStore;
  clock: Clock;
  ids: IdGenerator;
  metrics: Metrics;
  /** group commit of uploaded chunks' rows and audit entries (bound to this db, clock and metrics) */
  chunkCommits: ChunkCommits;
}
