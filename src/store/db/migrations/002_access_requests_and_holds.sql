-- Access requests (SPEC step 5-7) and their sign-offs.
CREATE TABLE access_requests (
  id                    text PRIMARY KEY,
  order_id              text NOT NULL REFERENCES orders(order_id),
  requester_id          text NOT NULL REFERENCES principals(id),
  requester_department  text NOT NULL,
  purpose               text NOT NULL CHECK (purpose IN ('dispute', 'safety', 'compliance_check', 'legal_request')),
  reason                text NOT NULL,
  ticket_ref            text NOT NULL,
  status                text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  created_at            timestamptz NOT NULL,
  expires_at            timestamptz NOT NULL,
  decided_at            timestamptz,
  grant_expires_at      timestamptz
);
CREATE INDEX access_requests_order ON access_requests (order_id);
CREATE INDEX access_requests_status ON access_requests (status, expires_at);

CREATE TABLE access_decisions (
  request_id   text NOT NULL REFERENCES access_requests(id),
  decider_id   text NOT NULL REFERENCES principals(id),
  decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
  -- the sign-off this decision counts as: department_head or security_head
  counted_as   text NOT NULL CHECK (counted_as IN ('department_head', 'security_head')),
  comment      text NOT NULL,
  decided_at   timestamptz NOT NULL,
  PRIMARY KEY (request_id, decider_id)
);

-- Retention holds (SPEC step 8).
CREATE TABLE holds (
  id           text PRIMARY KEY,
  order_id     text NOT NULL REFERENCES orders(order_id),
  reason       text NOT NULL CHECK (reason IN ('complaint', 'bad_review', 'dispute', 'legal')),
  until        timestamptz,
  note         text,
  placed_by    text NOT NULL REFERENCES principals(id),
  placed_at    timestamptz NOT NULL,
  lifted_by    text REFERENCES principals(id),
  lifted_at    timestamptz
);
CREATE INDEX holds_order ON holds (order_id);
