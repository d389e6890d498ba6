-- Principals and their tokens. Tokens are stored only as SHA-256 hex.
CREATE TABLE principals (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  department  text NOT NULL,
  roles       text[] NOT NULL,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);

CREATE TABLE tokens (
  token_hash   text PRIMARY KEY,
  principal_id text NOT NULL REFERENCES principals(id),
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX tokens_principal ON tokens (principal_id);

-- Orders with their key pair; the secret key only wrapped by a KEK.
CREATE TABLE orders (
  order_id           text PRIMARY KEY,
  beautician_id      text NOT NULL REFERENCES principals(id),
  customer_id        text NOT NULL,
  scheduled_at       timestamptz NOT NULL,
  public_key         bytea NOT NULL,
  wrapped_secret_key bytea,
  kek_version        integer NOT NULL,
  created_at         timestamptz NOT NULL,
  shredded_at        timestamptz
);

CREATE TABLE consents (
  id           text PRIMARY KEY,
  order_id     text NOT NULL REFERENCES orders(order_id),
  party        text NOT NULL CHECK (party IN ('beautician', 'customer')),
  decision     text NOT NULL CHECK (decision IN ('consent', 'object')),
  mode         text NOT NULL CHECK (mode IN ('explicit', 'notified_no_objection')),
  app_version  text NOT NULL,
  recorded_by  text NOT NULL REFERENCES principals(id),
  recorded_at  timestamptz NOT NULL
);
CREATE INDEX consents_order ON consents (order_id);

CREATE TABLE recordings (
  id                  text PRIMARY KEY,
  order_id            text NOT NULL REFERENCES orders(order_id),
  status              text NOT NULL CHECK (status IN ('recording', 'sealed', 'incomplete', 'expired')),
  mime_type           text NOT NULL,
  sealed_content_key  bytea NOT NULL,
  created_at          timestamptz NOT NULL,
  last_chunk_at       timestamptz,
  sealed_at           timestamptz,
  incomplete_at       timestamptz,
  chunk_count         integer,
  retain_until        timestamptz,
  expired_at          timestamptz,
  stored_bytes        bigint NOT NULL DEFAULT 0,
  stored_chunks       integer NOT NULL DEFAULT 0
);
CREATE INDEX recordings_order ON recordings (order_id);
CREATE INDEX recordings_status ON recordings (status);

-- One row per stored chunk; the object key names the body's hash, so a
-- conflicting upload can never overwrite the object a row points to.
CREATE TABLE chunks (
  recording_id    text NOT NULL REFERENCES recordings(id),
  seq             integer NOT NULL CHECK (seq >= 0),
  sha256          text NOT NULL,
  size            integer NOT NULL,
  plaintext_size  integer NOT NULL,
  object_key      text NOT NULL,
  stored_at       timestamptz NOT NULL,
  PRIMARY KEY (recording_id, seq)
);

-- Append-only, hash-chained audit log.
CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL,
  actor_id      text,
  action        text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
  order_id      text,
  recording_id  text,
  details       jsonb NOT NULL,
  prev_hash     text NOT NULL,
  hash          text NOT NULL
);
CREATE INDEX audit_order ON audit_log (order_id, id);
