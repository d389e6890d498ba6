import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Database } from './database.js';

/**
 * @module express-rate-limit's Store over the vault's own PostgreSQL, so that
 * every server sharing one database counts one client's attempts together
 * (per-process memory let a fleet of N servers allow N times the limit).
 * Fixed windows, like the library's MemoryStore, timed by the database's
 * clock so servers with skewed clocks agree. The published PostgreSQL stores
 * open a pool of their own and keep their tables in a fixed schema outside
 * our migrations; this one runs in the vault's pool, schema and migrations.
 */

interface HitsRow {
  hits: number;
  reset_at: Date;
}

export class PostgresRateLimitStore implements Store {
  /** Shared across processes: express-rate-limit's double-count check treats it so. */
  readonly localKeys = false;
  readonly prefix: string;
  private windowMs = 60_000;
  private nextPruneAt = 0;

  /** `limiter` names the limit (one counter per limiter and client). */
  constructor(
    private readonly db: Database,
    private readonly limiter: string,
  ) {
    this.prefix = `${limiter}:`;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<IncrementResponse | undefined> {
    const [row] = await this.db.query<HitsRow>(
      'SELECT hits, reset_at FROM rate_limit_hits WHERE limiter = $1 AND client_key = $2 AND reset_at > now()',
      [this.limiter, key],
    );
    return row && { totalHits: row.hits, resetTime: row.reset_at };
  }

  async increment(key: string): Promise<IncrementResponse> {
    await this.pruneWhenDue();
    // One statement: concurrent increments from several servers serialise on the row and none is lost.
    const [row] = await this.db.query<HitsRow>(
      `INSERT INTO rate_limit_hits AS r (limiter, client_key, hits, reset_at)
       VALUES ($1, $2, 1, now() + make_interval(secs => $3::double precision / 1000))
       ON CONFLICT (limiter, client_key) DO UPDATE SET
         hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
         reset_at = CASE WHEN r.reset_at <= now() THEN EXCLUDED.reset_at ELSE r.reset_at END
       RETURNING hits, reset_at`,
      [this.limiter, key, this.windowMs],
    );
    if (!row) throw new Error('rate limit increment returned no row');
    return { totalHits: row.hits, resetTime: row.reset_at };
  }

  async decrement(key: string): Promise<void> {
    await this.db.query(
      `UPDATE rate_limit_hits SET hits = GREATEST(hits - 1, 0)
       WHERE limiter = $1 AND client_key = $2 AND reset_at > now()`,
      [this.limiter, key],
    );
  }

  async resetKey(key: string): Promise<void> {
    await this.db.query('DELETE FROM rate_limit_hits WHERE limiter = $1 AND client_key = $2', [this.limiter, key]);
  }

  /** Ended windows are deleted at most once a window per process, so the table holds only live counters. */
  private async pruneWhenDue(): Promise<void> {
    const now = Date.now();
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + this.windowMs;
    await this.db.query('DELETE FROM rate_limit_hits WHERE limiter = $1 AND reset_at <= now()', [this.limiter]);
  }
}
