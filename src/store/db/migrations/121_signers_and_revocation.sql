-- Who may sign an access request, fixed when it is filed (SPEC step 6): a
-- role granted later does not count for it. One row per person and sign-off
-- they could give then (a person holding both roles has two rows).
CREATE TABLE access_request_signers (
  request_id    text NOT NULL REFERENCES access_requests(id),
  principal_id  text NOT NULL REFERENCES principals(id),
  sign_off      text NOT NULL CHECK (sign_off IN ('department_head', 'security_head')),
  PRIMARY KEY (request_id, principal_id, sign_off)
);

-- A security head may end a live grant at once (SPEC step 7): status `revoked`.
ALTER TABLE access_requests DROP CONSTRAINT access_requests_status_check;
ALTER TABLE access_requests ADD CONSTRAINT access_requests_status_check
  CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'revoked'));
ALTER TABLE access_requests ADD COLUMN revoked_at timestamptz;
ALTER TABLE access_requests ADD COLUMN revoked_by text REFERENCES principals(id);
ALTER TABLE access_requests ADD COLUMN revoke_reason text;
