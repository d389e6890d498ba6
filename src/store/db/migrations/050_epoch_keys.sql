-- Epoch keys (SPEC Crypto). The keys themselves live only outside the
-- database (VAULT_EPOCH_KEY_DIR or VAULT_EPOCH_KEY_BUCKET), so that no
-- database backup ever holds one. These rows are what the database knows
-- about them, and no key material: which exist, the time each covers, which
-- KEK version wraps it, and when it was destroyed.
--   kind 'epoch': id is the epoch's start (ISO 8601), ends_at its end.
--   kind 'hold':  id is 'hold:' || hold id (a legal hold without an end);
--                 ends_at is set when the order no longer needs it (the hold was lifted).
CREATE TABLE epochs (
  id            text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('epoch', 'hold')),
  hold_id       text,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz,
  kek_version   integer NOT NULL,
  created_at    timestamptz NOT NULL,
  destroyed_at  timestamptz,
  CHECK ((kind = 'hold') = (hold_id IS NOT NULL)),
  CHECK (kind = 'hold' OR ends_at IS NOT NULL)
);
CREATE INDEX epochs_live ON epochs (ends_at, id) WHERE destroyed_at IS NULL;

-- Every order whose secret key was ever wrapped under an epoch key: the
-- orders its shred receipt names. Rows go once the receipt is written.
CREATE TABLE epoch_orders (
  epoch_id  text NOT NULL REFERENCES epochs(id),
  order_id  text NOT NULL REFERENCES orders(order_id),
  PRIMARY KEY (epoch_id, order_id)
);

-- An order's secret key is wrapped under an epoch key (epoch_id); orders
-- from before epochs were wrapped by a KEK directly (kek_version) until the
-- start-up migration moves them. Never both.
ALTER TABLE orders ADD COLUMN epoch_id text REFERENCES epochs(id);
ALTER TABLE orders ALTER COLUMN kek_version DROP NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_one_wrapper
  CHECK (wrapped_secret_key IS NULL OR ((epoch_id IS NULL) <> (kek_version IS NULL)));
CREATE INDEX orders_epoch ON orders (epoch_id) WHERE epoch_id IS NOT NULL;
CREATE INDEX orders_kek_wrapped ON orders (order_id) WHERE wrapped_secret_key IS NOT NULL AND epoch_id IS NULL;
