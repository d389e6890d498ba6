-- Appends one audit entry in a single round trip: takes the chain lock, reads the
-- newest hash, draws the id and inserts the entry. Each statement of a volatile
-- PL/pgSQL function takes a fresh snapshot, so the read after the lock sees every
-- entry committed before it. The caller hashes nothing it cannot know: it sends
-- the entry's canonical content split around its id (`content_before || id ||
-- content_after`), and the hash is sha256(prev_hash || '\n' || content), exactly
-- as src/audit/audit-log.ts recomputes it when verifying.
CREATE FUNCTION audit_append(
  p_at timestamptz, p_actor_id text, p_action text, p_outcome text, p_order_id text,
  p_recording_id text, p_details jsonb, p_content_before text, p_content_after text
) RETURNS TABLE (entry_id bigint, entry_prev_hash text, entry_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_id bigint;
  v_prev text;
  v_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7042002);
  SELECT a.hash INTO v_prev FROM audit_log a ORDER BY a.id DESC LIMIT 1;
  v_prev := COALESCE(v_prev, repeat('0', 64));
  v_id := nextval(pg_get_serial_sequence('audit_log', 'id'));
  v_hash := encode(sha256(convert_to(v_prev || E'\n' || p_content_before || v_id::text || p_content_after, 'UTF8')), 'hex');
  INSERT INTO audit_log (id, at, actor_id, action, outcome, order_id, recording_id, details, prev_hash, hash)
  VALUES (v_id, p_at, p_actor_id, p_action, p_outcome, p_order_id, p_recording_id, p_details, v_prev, v_hash);
  RETURN QUERY SELECT v_id, v_prev, v_hash;
END
$$;
