import pg from 'pg';
import { TEST_DATABASE_URL } from './postgres.js';

/**
 * Fails the whole run early, with one clear message, when PostgreSQL is missing.
 * (Each test that needs it would fail anyway; it never skips.)
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `The tests need PostgreSQL at TEST_DATABASE_URL=${TEST_DATABASE_URL.replace(/:[^:@/]*@/, ':***@')} ` +
        `(start it, e.g. 'pg_ctlcluster 15 main start', or run 'bash .ci/run'): ${String(err)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
