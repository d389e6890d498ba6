import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Database } from '../../src/store/db/database.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { TEST_DATABASE_URL } from './postgres.js';

const run = promisify(execFile);

/** PostgreSQL's client tools, of the server's major version (15 here; PG_BIN overrides). */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A database backup as an operator takes one: `pg_dump` of the vault's schema, plain SQL. */
export async function dumpSchema(schema: string): Promise<{ schema: string; sql: string }> {
  const { stdout } = await run(
    path.join(PG_BIN, 'pg_dump'),
    ['--no-owner', '--no-privileges', `--schema=${schema}`, `--dbname=${TEST_DATABASE_URL}`],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  if (!stdout.includes(`CREATE SCHEMA ${schema};`)) throw new Error('pg_dump output does not create the schema');
  return { schema, sql: stdout };
}

/**
 * Restores a dump into a fresh schema of its own with `psql` (the schema's
 * random name is replaced by another), and opens it.
 */
export async function restoreSchema(dump: {
  schema: string;
  sql: string;
}): Promise<{ db: Database; schema: string; cleanup(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-restore-'));
  try {
    const file = path.join(dir, 'dump.sql');
    await writeFile(file, dump.sql.replaceAll(dump.schema, schema));
    await run(path.join(PG_BIN, 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', '-f', file, `--dbname=${TEST_DATABASE_URL}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const db = openPostgres({ connectionString: TEST_DATABASE_URL, schema });
  return {
    db,
    schema,
    async cleanup() {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}
