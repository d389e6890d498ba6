-- Upload integrity and receipts (SPEC "Upload integrity and receipts", step 2).

-- The signed receipt a completion answered, kept so that a retried completion
-- answers the identical receipt (the log key may have been rotated since).
ALTER TABLE recordings ADD COLUMN receipt jsonb;

-- Why a recording stopped before it was sealed. NULL for one the sweeper
-- closed after VAULT_INCOMPLETE_AFTER of silence; 'consent_withdrawn' when an
-- objection arrived while it was under way (further chunks answer 409
-- consent_withdrawn).
ALTER TABLE recordings ADD COLUMN incomplete_reason text
  CHECK (incomplete_reason IN ('silence', 'consent_withdrawn'));

-- Idempotency-Key of POST /v1/orders/:orderId/recordings: one row per principal
-- and key. A key is honoured for 24 hours; after that the row may be taken over
-- by a new start with the same key. request_hash binds the key to the request
-- it first came with, so a reuse with another body is refused.
CREATE TABLE recording_start_keys (
  principal_id     text NOT NULL,
  idempotency_key  text NOT NULL,
  request_hash     text NOT NULL,
  recording_id     text NOT NULL REFERENCES recordings(id),
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (principal_id, idempotency_key)
);
