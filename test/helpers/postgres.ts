import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/store/db/database.js';
import { migrate } from '../../src/store/db/migrate.js';
import { openPostgres } from '../../src/store/db/postgres.js';

/** The PostgreSQL the tests use; `.ci/run` exports it. Tests never skip when it is missing: they fail. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema of its own for one test file, migrated; dropped by cleanup(). */
export async function freshPostgresSchema(): Promise<{
  db: Database;
  url: string;
  schema: string;
  cleanup(): Promise<void>;
}> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for this test and is not reachable at TEST_DATABASE_URL (${redactUrl(TEST_DATABASE_URL)}): ${String(err)}`,
    );
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = openPostgres({ connectionString: TEST_DATABASE_URL, schema });
  await migrate(db);
  return {
    db,
    url: TEST_DATABASE_URL,
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

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** A fresh database of its own, for a server process started with DATABASE_URL; drop() removes it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vault_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
