-- Signed sign-offs (SPEC "Signed sign-offs").

-- A head's registered Ed25519 public key (base64url, 32 bytes) and its id
-- (base64url of the first 12 bytes of SHA-256 of the key). Set once; only an
-- admin clears it (the decisions it signed keep their own copy below).
ALTER TABLE principals ADD COLUMN signing_key text;
ALTER TABLE principals ADD COLUMN signing_key_id text;
ALTER TABLE principals ADD COLUMN signing_key_set_at timestamptz;

-- Each decision keeps its signature and the key it verified against, so it
-- can be checked offline long after the key was cleared or replaced. NULL
-- only for decisions taken with VAULT_REQUIRE_SIGNED_DECISIONS=false.
ALTER TABLE access_decisions ADD COLUMN signature text;
ALTER TABLE access_decisions ADD COLUMN signer_key_id text;
ALTER TABLE access_decisions ADD COLUMN signer_public_key text;
