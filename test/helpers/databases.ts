import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pino from 'pino';
import { afterAll } from 'vitest';
import type { Database } from '../../src/store/db/database.js';
import { type EmbeddedCluster, openEmbeddedCluster } from '../../src/store/db/embedded/cluster.js';
import { migrate } from '../../src/store/db/migrate.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { embeddedDataDir, stopLeftoverCluster } from './embedded.js';
import { freshPostgresSchema } from './postgres.js';

type OpenBackend = () => Promise<{ db: Database; cleanup(): Promise<void> }>;

/**
 * The embedded cluster, started once per test file (on first use) in a temp
 * data dir and stopped when the file's tests end; each open() gets a fresh
 * schema in it, as on the external PostgreSQL.
 */
let embedded: Promise<{ cluster: EmbeddedCluster; dataDir: string }> | undefined;
const embeddedCluster = () => {
  embedded ??= (async () => {
    const dataDir = await embeddedDataDir('vault-embedded-');
    const cluster = await openEmbeddedCluster({ dataDir, logger: pino({ level: 'warn' }) });
    return { cluster, dataDir };
  })();
  return embedded;
};
afterAll(async () => {
  if (!embedded) return;
  const { cluster, dataDir } = await embedded;
  await cluster.release();
  await stopLeftoverCluster(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

async function freshEmbeddedSchema(): ReturnType<OpenBackend> {
  const { cluster } = await embeddedCluster();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = openPostgres({ address: cluster.address });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = openPostgres({ address: cluster.address, schema });
  await migrate(db);
  return {
    db,
    async cleanup() {
      await db.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** Every database backend, fresh and migrated: for suites that every backend must pass. Both are real PostgreSQL. */
export const DATABASE_BACKENDS: [string, OpenBackend][] = [
  ['embedded', freshEmbeddedSchema],
  ['postgres', () => freshPostgresSchema()],
];
