import path from 'node:path';
import { auditBacklog } from './audit/backlog.js';
import { recordChainVerdict } from './audit/chain-migration.js';
import { sequence } from './audit/sequencer.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { loadOrCreateKeyring } from './crypto/keyring.js';
import { loadOrCreateLogKey } from './crypto/log-key.js';
import { createChunkCommits } from './domain/chunk-commits.js';
import type { DomainDeps } from './domain/deps.js';
import { createEpochKeys } from './domain/epoch-keyring.js';
import { assertKeysAvailable } from './domain/key-rotation.js';
import { checkEpochKeysPresent, moveKekWrappedOrderKeys } from './domain/order-key-epochs.js';
import { bootstrapAdmin, principalsWithConflictingRoles } from './domain/principals.js';
import { createIdGenerator } from './ids.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { checkReadiness } from './readiness.js';
import type { BlobStore } from './store/blobs/blob-store.js';
import { openBlobStore } from './store/blobs/open.js';
import { openCheckpointStore } from './store/checkpoint-store.js';
import type { Database } from './store/db/database.js';
import { openDatabase } from './store/db/open.js';
import { openEpochKeyStore } from './store/epoch-key-store.js';
import { startWorkers, type Workers } from './workers.js';

/**
 * The composition root: the one place that turns a Config into the running
 * parts of the vault. The server, the CLI, the tests and the benchmarks all
 * build their vault here, so a part added to DomainDeps is wired once.
 */
export interface OpenVaultOptions {
  logger: Logger;
  clock?: Clock;
  /**
   * Stores the caller opened (tests, benchmarks, a second server on the same
   * data): used as they are, migrated by the caller, and left open on close.
   */
  stores?: { db: Database; blobs: BlobStore };
  /** process-wide default metrics (CPU, memory); off where many vaults share one process */
  defaultMetrics?: boolean;
}

export interface Vault extends DomainDeps {
  logger: Logger;
  /**
   * Sequences every audit entry committed before the call and publishes its
   * checkpoint, waiting for the sequencing lease if another server holds it.
   */
  sequenceNow(): Promise<void>;
  /** Starts the background work every server runs (src/workers.ts); stop it before close(). */
  startWorkers(): Workers;
  /** Closes what this vault opened, even when one part fails, then reports every failure. */
  close(): Promise<void>;
}

export async function openVault(config: Config, options: OpenVaultOptions): Promise<Vault> {
  const { logger } = options;
  const closers: (() => Promise<void>)[] = [];
  // In reverse order of opening, one after another: what was opened last may still use what was opened first.
  const closeAll = async () => {
    const failures: unknown[] = [];
    for (const close of closers.reverse()) await close().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw new AggregateError(failures, 'closing the vault failed');
  };
  try {
    const keyring = await loadOrCreateKeyring({
      keks: config.keks,
      dataDir: config.dataDir,
      warn: (message) => logger.warn(message),
    });
    const logKey = await loadOrCreateLogKey({
      origin: config.logOrigin,
      seed: config.logSigningKey,
      dataDir: config.dataDir,
      warn: (message) => logger.warn(message),
    });
    let db: Database;
    let blobs: BlobStore;
    if (options.stores) {
      ({ db, blobs } = options.stores);
    } else {
      db = await openDatabase(config, {
        logger,
        onIdleError: (err) => logger.warn({ err }, 'an idle database connection broke; the pool will open a new one'),
      });
      closers.push(() => db.close());
      blobs = await openBlobStore(config);
      closers.push(() => blobs.close());
    }
    await assertKeysAvailable(db, keyring);
    if (config.epochKeys.kind === 'dir' && isInside(config.epochKeys.dir, config.dataDir))
      logger.warn(
        `epoch keys are kept in ${config.epochKeys.dir}, inside the data directory: exclude that directory from every backup of the data directory (a backup holding both the database and its epoch keys shreds nothing), or set VAULT_EPOCH_KEY_DIR elsewhere`,
      );
    const epochKeyStore = await openEpochKeyStore(config);
    closers.push(() => epochKeyStore.close());
    const checkpoints = await openCheckpointStore(config);
    closers.push(() => checkpoints.close());
    if (config.checkpoints.kind === 'bucket' && checkpoints.lock === 'none')
      logger.warn(
        `VAULT_CHECKPOINT_BUCKET ${config.checkpoints.bucket} has no S3 Object Lock: published checkpoints can be overwritten by whoever holds the bucket's credentials; use a bucket created with Object Lock (compliance mode)`,
      );
    const clock = options.clock ?? systemClock;
    const metrics = createMetrics({
      defaultMetrics: options.defaultMetrics ?? true,
      readiness: () => checkReadiness(deps),
      auditBacklog: () => auditBacklog(db),
    });
    const chunkCommits = createChunkCommits({ db, clock, metrics });
    // Before the stores close: uploads in flight are answered (committed or refused) first.
    closers.push(() => chunkCommits.close());
    const deps: DomainDeps = {
      config,
      db,
      blobs,
      keyring,
      epochKeys: createEpochKeys(epochKeyStore, keyring, clock),
      logKey,
      checkpoints,
      clock,
      ids: await createIdGenerator(),
      metrics,
      chunkCommits,
    };
    const chain = await recordChainVerdict(db, clock.now());
    if (chain) logger.info({ chain }, 'the hash-chained audit entries become the first leaves of the audit tree');
    const moved = await moveKekWrappedOrderKeys(deps);
    if (moved > 0) logger.info({ moved }, 'moved order keys from before epoch keys under their epoch keys');
    const absent = await checkEpochKeysPresent(deps);
    if (absent.length > 0)
      logger.warn(
        { epochs: absent },
        'orders are wrapped under epoch keys that the epoch key store does not hold: they can never be played again (a database restored from a backup older than the backup window, or the wrong VAULT_EPOCH_KEY_DIR/_BUCKET)',
      );
    const conflicting = await principalsWithConflictingRoles(deps);
    if (conflicting.length > 0)
      logger.warn(
        { principals: conflicting },
        'principals hold platform, beautician or admin together with another role, which separation of duties forbids: revoke them and create one principal per role',
      );
    if (config.bootstrapAdminToken && (await bootstrapAdmin(deps, config.bootstrapAdminToken))) {
      logger.info('created the bootstrap admin from VAULT_BOOTSTRAP_ADMIN_TOKEN');
    }
    const vault: Vault = {
      ...deps,
      logger,
      sequenceNow: async () => {
        await sequence(deps, { wait: true });
      },
      startWorkers: () => startWorkers(vault),
      close: closeAll,
    };
    return vault;
  } catch (err) {
    await closeAll().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'closing after a failed start'));
    throw err;
  }
}

const isInside = (dir: string, parent: string): boolean => {
  const rel = path.relative(path.resolve(parent), path.resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
