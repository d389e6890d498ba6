-- Rate-limit counters shared by every server on this database (src/store/db/rate-limits.ts):
-- failed authentications and admin writes per client address hold across the fleet, not per process.
CREATE TABLE IF NOT EXISTS rate_limit_hits (
  limiter text NOT NULL,
  client_key text NOT NULL,
  hits integer NOT NULL,
  reset_at timestamptz NOT NULL,
  PRIMARY KEY (limiter, client_key)
);
CREATE INDEX IF NOT EXISTS rate_limit_hits_reset_at ON rate_limit_hits (reset_at);
