import pg from 'pg';
import { unavailable } from '../../errors.js';
import type { Connection, Database, Queryable, Row } from './database.js';
import type { EmbeddedAddress } from './embedded/cluster.js';

/** Where the server is: a DATABASE_URL, or the embedded cluster's address (its password is kept out of any URL). */
export type PostgresTarget = { connectionString: string } | { address: EmbeddedAddress };

export type PostgresOptions = PostgresTarget & {
  /** Tests give each file its own schema; production leaves it unset (public). */
  schema?: string;
  maxConnections?: number;
  /** Told when an idle pooled connection breaks (the server restarted, say); the next query reports the outage itself. */
  onIdleError?: (err: Error) => void;
};

// Connection-level failures (server down, restarting, unreachable) become 503s; everything else is a bug or a constraint.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

function translate(err: unknown): unknown {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : '';
  if (
    UNAVAILABLE_CODES.has(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    )
  ) {
    return unavailable('database', err);
  }
  return err;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// int8 (counts, sizes) as JS numbers: every value we store stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export function openPostgres(options: PostgresOptions): Database {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) throw new Error('invalid schema name');
  const pool = new pg.Pool({
    ...('address' in options ? options.address : { connectionString: options.connectionString }),
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
  });
  // An idle client losing its connection must not crash the process: it is reported, and the pool replaces it.
  pool.on('error', (err) => options.onIdleError?.(err));

  const run = async <T extends Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    try {
      return (await client.query(sql, params as unknown[] | undefined)).rows as T[];
    } catch (err) {
      throw translate(err);
    }
  };

  // A connection whose ROLLBACK failed is broken: it is destroyed rather than returned to the pool.
  const broken = new WeakMap<pg.PoolClient, Error>();
  const inTransaction = async <T>(client: pg.PoolClient, fn: (tx: Queryable) => Promise<T>): Promise<T> => {
    try {
      await client.query('BEGIN');
      const result = await fn({ query: (sql, params) => run(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken.set(client, rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
      });
      throw translate(err);
    }
  };
  const withClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect().catch((err: unknown) => {
      throw translate(err);
    });
    try {
      return await fn(client);
    } finally {
      client.release(broken.get(client));
    }
  };

  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return withClient((client) => inTransaction(client, fn));
    },
    withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
      return withClient(async (client) => {
        try {
          return await fn({
            query: (sql, params) => run(client, sql, params),
            transaction: (inner) => inTransaction(client, inner),
          });
        } catch (err) {
          // Its session state (a lock, say) is unknown now: the connection is closed, not pooled.
          broken.set(client, err instanceof Error ? err : new Error(String(err)));
          throw err;
        }
      });
    },
    async ping() {
      await run(pool, 'SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
