-- Notifications (SPEC "Notifications"): Standard Webhooks endpoints, an
-- outbox of deliveries written in the same transaction as the action, and
-- every delivery attempt.

-- The signing secret must be usable to sign, so it cannot be kept as a hash:
-- it is stored encrypted under the KEK (XChaCha20-Poly1305, AAD = endpoint id
-- and KEK version; src/crypto/webhook-secret.ts) and shown once, when made.
CREATE TABLE webhook_endpoints (
  id              text PRIMARY KEY,
  url             text NOT NULL,
  events          text[] NOT NULL,
  secret_wrapped  bytea NOT NULL,
  kek_version     integer NOT NULL,
  created_by      text NOT NULL REFERENCES principals(id),
  created_at      timestamptz NOT NULL,
  deleted_at      timestamptz
);

-- One row per event and endpoint: the outbox. A worker claims due rows with
-- FOR UPDATE SKIP LOCKED and a lease (locked_until), so several servers share
-- the work and a crashed server's claim runs out.
CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  endpoint_id      text NOT NULL REFERENCES webhook_endpoints(id),
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  payload          jsonb NOT NULL,
  created_at       timestamptz NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  locked_until     timestamptz,
  give_up_at       timestamptz NOT NULL,
  delivered_at     timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  id            bigserial PRIMARY KEY,
  delivery_id   bigint NOT NULL REFERENCES webhook_deliveries(id),
  attempted_at  timestamptz NOT NULL,
  status_code   integer,
  error         text,
  duration_ms   integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
