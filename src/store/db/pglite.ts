import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable, Row } from './database.js';

/** Embedded PostgreSQL (WASM) in a directory; `undefined` keeps it in memory. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir, {
    // Same shapes as pg: int8 as number.
    parsers: { [types.INT8]: (v: string) => Number(v) },
  });
  const run = async <T extends Row>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await q.query<T>(sql, params as unknown[] | undefined)).rows;

  return {
    kind: 'pglite',
    query: (sql, params) => run(db, sql, params),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) }));
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await db.close();
    },
  };
}
