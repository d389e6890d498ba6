/**
 * One small query interface with two implementations: PostgreSQL through `pg`
 * (postgres.ts) and embedded PGlite (pglite.ts). Same SQL on both.
 */
/** A result row; repositories name its columns with their own row interfaces. */
export type Row = object;

export interface Queryable {
  query<T extends Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
