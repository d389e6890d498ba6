-- Reading requests by who may see them: dispute staff their own, department heads their department's.
CREATE INDEX access_requests_requester ON access_requests (requester_id, created_at);
CREATE INDEX access_requests_department ON access_requests (requester_department, created_at);
