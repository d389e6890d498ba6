import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Database } from './database.js';
import { openEmbeddedCluster } from './embedded/cluster.js';
import { migrate } from './migrate.js';
import { openPostgres } from './postgres.js';

export interface OpenDatabaseOptions {
  /** where the embedded cluster's own output and its start and stop go */
  logger: Logger;
  onIdleError?: (err: Error) => void;
}

/**
 * PostgreSQL at DATABASE_URL when set, else the embedded cluster in the data
 * dir (started here, or the one another process of this data dir runs);
 * migrated. Closing it also ends this process's use of the embedded cluster.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  options: OpenDatabaseOptions,
): Promise<Database> {
  if (config.databaseUrl) {
    return migrated(openPostgres({ connectionString: config.databaseUrl, onIdleError: options.onIdleError }));
  }
  const cluster = await openEmbeddedCluster({ dataDir: config.dataDir, logger: options.logger });
  const db = openPostgres({ address: cluster.address, onIdleError: options.onIdleError });
  const close = async () => {
    try {
      await db.close();
    } finally {
      await cluster.release();
    }
  };
  return migrated({ ...db, close });
}

async function migrated(db: Database): Promise<Database> {
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
