-- The audit log becomes a transparency log (RFC 9162, C2SP tlog-checkpoint).
-- Writers insert entries with leaf_index NULL and take no log-wide lock; the
-- sequencer gives each committed entry its leaf_index and leaf_hash, stores
-- the tree's perfect subtrees and signs a checkpoint per batch.
-- The hash chain's columns stay (nullable) for the entries written before.
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_log ADD COLUMN leaf_index bigint;
ALTER TABLE audit_log ADD COLUMN leaf_hash bytea;
CREATE UNIQUE INDEX audit_leaf_index ON audit_log (leaf_index);
CREATE INDEX audit_unsequenced ON audit_log (id) WHERE leaf_index IS NULL;

-- Perfect subtrees: 2^level leaves starting at leaf idx * 2^level (level 0: leaf hashes).
CREATE TABLE audit_tree (
  level  smallint NOT NULL,
  idx    bigint NOT NULL,
  hash   bytea NOT NULL,
  PRIMARY KEY (level, idx)
);

-- Every signed checkpoint, newest by tree_size; published_at once written outside the database.
CREATE TABLE audit_checkpoints (
  tree_size     bigint PRIMARY KEY,
  root_hash     bytea NOT NULL,
  note          text NOT NULL,
  signed_at     timestamptz NOT NULL,
  published_at  timestamptz
);
