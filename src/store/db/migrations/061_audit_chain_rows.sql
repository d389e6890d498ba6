-- The entries written while the log was a hash chain, found without a scan at each start (src/audit/chain-migration.ts).
CREATE INDEX audit_chain_rows ON audit_log (id) WHERE hash IS NOT NULL;
