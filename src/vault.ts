import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { loadOrCreateKeyring } from './crypto/keyring.js';
import type { DomainDeps } from './domain/deps.js';
import { assertKeysAvailable } from './domain/key-rotation.js';
import { bootstrapAdmin } from './domain/principals.js';
import { createIdGenerator } from './ids.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { openBlobStore } from './store/blobs/open.js';
import { openDatabase } from './store/db/open.js';

/** Opens every store the vault needs from its Config; the server and the CLI share this. */
export async function openVault(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<DomainDeps & { close(): Promise<void> }> {
  const keyring = await loadOrCreateKeyring({
    keks: config.keks,
    dataDir: config.dataDir,
    warn: (message) => logger.warn(message),
  });
  const db = await openDatabase(config, {
    onIdleError: (err) => logger.warn({ err }, 'an idle database connection broke; the pool will open a new one'),
  });
  await assertKeysAvailable(db, keyring).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  const blobs = await openBlobStore(config).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  const deps: DomainDeps = {
    config,
    db,
    blobs,
    keyring,
    clock,
    ids: await createIdGenerator(),
    metrics: createMetrics({ defaultMetrics: true }),
  };
  if (config.bootstrapAdminToken && (await bootstrapAdmin(deps, config.bootstrapAdminToken))) {
    logger.info('created the bootstrap admin from VAULT_BOOTSTRAP_ADMIN_TOKEN');
  }
  return {
    ...deps,
    /** Closes both stores, even when one fails, then reports every failure. */
    async close() {
      const failures = (await Promise.allSettled([db.close(), blobs.close()])).flatMap((r) =>
        r.status === 'rejected' ? [r.reason as unknown] : [],
      );
      if (failures.length > 0) throw new AggregateError(failures, 'closing the stores failed');
    },
  };
}
