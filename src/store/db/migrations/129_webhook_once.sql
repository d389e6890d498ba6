-- Events that are sent once per subject (SPEC "Notifications"): the first play
-- of a recording under a grant (recording.unsealed, subject "<request>/<recording>")
-- and the 12-hour warning of a pending request (access_request.expiring,
-- subject the request id). Inserted with ON CONFLICT DO NOTHING in the action's
-- transaction: the primary key decides, even between servers, who sends it.
CREATE TABLE webhook_once (
  event_type  text NOT NULL,
  subject     text NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (event_type, subject)
);
