/**
 * @module One small query interface over PostgreSQL (postgres.ts): an external
 * server named by DATABASE_URL or the embedded cluster in the data dir
 * (embedded/cluster.ts). Repositories take a Queryable, so the same functions
 * run inside and outside a transaction.
 */

/** A result row; repositories name its columns with their own row interfaces. */
export type Row = object;

export interface Queryable {
  query<T extends Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** One connection: queries and transactions that all run on it. */
export interface Connection extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Database extends Queryable {
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs fn on one connection of its own, for work that needs session state
   * (a session advisory lock: it is released when fn ends or the connection dies).
   */
  withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
