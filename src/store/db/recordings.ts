import type { UploadReceipt } from '../../crypto/receipt.js';
import type { Principal, Role } from '../../domain/principal.js';
import type { RecordingStatus } from '../../domain/vocabulary.js';
import type { Queryable } from './database.js';

/** Why a recording stopped before it was sealed (NULL in the row: the sweeper closed it after silence). */
export type IncompleteReason = 'silence' | 'consent_withdrawn';

export interface RecordingRecord {
  id: string;
  orderId: string;
  status: RecordingStatus;
  mimeType: string;
  sealedContentKey: Uint8Array;
  createdAt: Date;
  lastChunkAt: Date | null;
  sealedAt: Date | null;
  incompleteAt: Date | null;
  chunkCount: number | null;
  retainUntil: Date | null;
  expiredAt: Date | null;
  storedBytes: number;
  storedChunks: number;
  incompleteReason: IncompleteReason | null;
  /** the receipt its completion answered; null until sealed */
  receipt: UploadReceipt | null;
}

interface RecordingRow {
  id: string;
  order_id: string;
  status: RecordingStatus;
  mime_type: string;
  sealed_content_key: Uint8Array;
  created_at: Date;
  last_chunk_at: Date | null;
  sealed_at: Date | null;
  incomplete_at: Date | null;
  chunk_count: number | null;
  retain_until: Date | null;
  expired_at: Date | null;
  stored_bytes: number;
  stored_chunks: number;
  incomplete_reason: IncompleteReason | null;
  receipt: UploadReceipt | null;
}

const toRecording = (r: RecordingRow): RecordingRecord => ({
  id: r.id,
  orderId: r.order_id,
  status: r.status,
  mimeType: r.mime_type,
  sealedContentKey: new Uint8Array(r.sealed_content_key),
  createdAt: r.created_at,
  lastChunkAt: r.last_chunk_at,
  sealedAt: r.sealed_at,
  incompleteAt: r.incomplete_at,
  chunkCount: r.chunk_count,
  retainUntil: r.retain_until,
  expiredAt: r.expired_at,
  storedBytes: Number(r.stored_bytes),
  storedChunks: Number(r.stored_chunks),
  incompleteReason: r.incomplete_reason,
  receipt: r.receipt,
});

export async function insertRecording(
  q: Queryable,
  r: Pick<RecordingRecord, 'id' | 'orderId' | 'mimeType' | 'sealedContentKey' | 'createdAt'>,
): Promise<void> {
  await q.query(
    `INSERT INTO recordings (id, order_id, status, mime_type, sealed_content_key, created_at)
     VALUES ($1, $2, 'recording', $3, $4, $5)`,
    [r.id, r.orderId, r.mimeType, Buffer.from(r.sealedContentKey), r.createdAt],
  );
}

export async function findRecording(
  q: Queryable,
  id: string,
  { forUpdate = false } = {},
): Promise<RecordingRecord | null> {
  const [row] = await q.query<RecordingRow>(`SELECT * FROM recordings WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  return row ? toRecording(row) : null;
}

export async function listRecordingsOfOrder(q: Queryable, orderId: string): Promise<RecordingRecord[]> {
  const rows = await q.query<RecordingRow>('SELECT * FROM recordings WHERE order_id = $1 ORDER BY created_at, id', [
    orderId,
  ]);
  return rows.map(toRecording);
}

export async function sealRecording(
  q: Queryable,
  id: string,
  at: Date,
  chunkCount: number,
  retainUntil: Date,
): Promise<void> {
  await q.query(
    `UPDATE recordings SET status = 'sealed', sealed_at = $2, chunk_count = $3, retain_until = $4 WHERE id = $1`,
    [id, at, chunkCount, retainUntil],
  );
}

export interface ChunkRecord {
  recordingId: string;
  seq: number;
  sha256: string;
  size: number;
  plaintextSize: number;
  objectKey: string;
  storedAt: Date;
}

interface ChunkRow {
  recording_id: string;
  seq: number;
  sha256: string;
  size: number;
  plaintext_size: number;
  object_key: string;
  stored_at: Date;
}

const toChunk = (r: ChunkRow): ChunkRecord => ({
  recordingId: r.recording_id,
  seq: r.seq,
  sha256: r.sha256,
  size: r.size,
  plaintextSize: r.plaintext_size,
  objectKey: r.object_key,
  storedAt: r.stored_at,
});

/** What decides whether a recording takes chunks, for a batch of uploads. */
export interface ChunkTakingState {
  id: string;
  orderId: string;
  status: RecordingStatus;
  incompleteReason: IncompleteReason | null;
}

/**
 * Locks the recordings (in id order, so that two batches never wait on each
 * other crosswise) until the transaction ends: a completion or the sweeper
 * cannot change one between this check and the chunk insert.
 */
export async function lockChunkTakingStates(
  q: Queryable,
  ids: readonly string[],
): Promise<Map<string, ChunkTakingState>> {
  const rows = await q.query<{
    id: string;
    order_id: string;
    status: RecordingStatus;
    incomplete_reason: IncompleteReason | null;
  }>(
    'SELECT id, order_id, status, incomplete_reason FROM recordings WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  return new Map(
    rows.map((r) => [r.id, { id: r.id, orderId: r.order_id, status: r.status, incompleteReason: r.incomplete_reason }]),
  );
}

export const chunkKey = (recordingId: string, seq: number): string => `${recordingId}/${seq}`;

/**
 * Inserts the chunk rows whose seq is free, and adds them to their recordings'
 * totals, in one statement; returns the keys (chunkKey) of the rows it stored.
 */
export async function insertChunks(q: Queryable, chunks: readonly ChunkRecord[]): Promise<Set<string>> {
  if (chunks.length === 0) return new Set();
  const rows = await q.query<{ recording_id: string; seq: number }>(
    `WITH ins AS (
       INSERT INTO chunks (recording_id, seq, sha256, size, plaintext_size, object_key, stored_at)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::int[], $6::text[], $7::timestamptz[])
       ON CONFLICT (recording_id, seq) DO NOTHING
       RETURNING recording_id, seq, size, stored_at
     ), totals AS (
       UPDATE recordings r
          SET stored_bytes = r.stored_bytes + t.bytes, stored_chunks = r.stored_chunks + t.n,
              last_chunk_at = GREATEST(COALESCE(r.last_chunk_at, t.last), t.last)
         FROM (SELECT recording_id, sum(size) AS bytes, count(*) AS n, max(stored_at) AS last
                 FROM ins GROUP BY recording_id) t
        WHERE r.id = t.recording_id
     )
     SELECT recording_id, seq FROM ins`,
    [
      chunks.map((c) => c.recordingId),
      chunks.map((c) => c.seq),
      chunks.map((c) => c.sha256),
      chunks.map((c) => c.size),
      chunks.map((c) => c.plaintextSize),
      chunks.map((c) => c.objectKey),
      chunks.map((c) => c.storedAt),
    ],
  );
  return new Set(rows.map((r) => chunkKey(r.recording_id, r.seq)));
}

/** The sha256 of each stored chunk among these (recording, seq) pairs, by chunkKey. */
export async function storedChunkHashes(
  q: Queryable,
  pairs: readonly { recordingId: string; seq: number }[],
): Promise<Map<string, string>> {
  const rows = await q.query<{ recording_id: string; seq: number; sha256: string }>(
    `SELECT c.recording_id, c.seq, c.sha256
       FROM chunks c JOIN unnest($1::text[], $2::int[]) AS p(recording_id, seq)
         ON c.recording_id = p.recording_id AND c.seq = p.seq`,
    [pairs.map((p) => p.recordingId), pairs.map((p) => p.seq)],
  );
  return new Map(rows.map((r) => [chunkKey(r.recording_id, r.seq), r.sha256]));
}

export interface UploadTarget {
  recording: RecordingRecord;
  /** the beautician the recording's order is assigned to */
  beauticianId: string;
  /** the sha256 of the chunk already stored under the seq asked about, if any */
  storedSha256: string | null;
}

/** Everything a chunk upload checks, in one round trip: the recording, its order's beautician and what the seq already holds. */
export async function findUploadTarget(q: Queryable, recordingId: string, seq: number): Promise<UploadTarget | null> {
  const [row] = await q.query<RecordingRow & { beautician_id: string; stored_sha256: string | null }>(
    `SELECT r.*, o.beautician_id, c.sha256 AS stored_sha256
       FROM recordings r
       JOIN orders o ON o.order_id = r.order_id
       LEFT JOIN chunks c ON c.recording_id = r.id AND c.seq = $2
      WHERE r.id = $1`,
    [recordingId, seq],
  );
  return row ? { recording: toRecording(row), beauticianId: row.beautician_id, storedSha256: row.stored_sha256 } : null;
}

/**
 * findUploadTarget and the token's check (findPrincipalByTokenHash) in one
 * round trip: null when the token is not an active principal's; else the
 * principal, and the target (null when there is no such recording).
 */
export async function findUploadTargetForToken(
  q: Queryable,
  tokenHash: string,
  recordingId: string,
  seq: number,
): Promise<{ principal: Principal; target: UploadTarget | null } | null> {
  type Joined = Partial<RecordingRow> & {
    p_id: string;
    p_name: string;
    p_department: string;
    p_roles: Role[];
    beautician_id: string | null;
    stored_sha256: string | null;
  };
  const [row] = await q.query<Joined>(
    `SELECT p.id AS p_id, p.name AS p_name, p.department AS p_department, p.roles AS p_roles,
            r.*, o.beautician_id, c.sha256 AS stored_sha256
       FROM tokens t
       JOIN principals p ON p.id = t.principal_id AND p.revoked_at IS NULL
       LEFT JOIN recordings r ON r.id = $2
       LEFT JOIN orders o ON o.order_id = r.order_id
       LEFT JOIN chunks c ON c.recording_id = r.id AND c.seq = $3
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL`,
    [tokenHash, recordingId, seq],
  );
  if (!row) return null;
  const principal: Principal = { id: row.p_id, name: row.p_name, department: row.p_department, roles: row.p_roles };
  if (row.id == null || row.beautician_id == null) return { principal, target: null };
  return {
    principal,
    target: {
      recording: toRecording(row as RecordingRow),
      beauticianId: row.beautician_id,
      storedSha256: row.stored_sha256,
    },
  };
}

export async function findChunk(q: Queryable, recordingId: string, seq: number): Promise<ChunkRecord | null> {
  const [row] = await q.query<ChunkRow>('SELECT * FROM chunks WHERE recording_id = $1 AND seq = $2', [
    recordingId,
    seq,
  ]);
  return row ? toChunk(row) : null;
}

export async function listChunks(q: Queryable, recordingId: string): Promise<ChunkRecord[]> {
  const rows = await q.query<ChunkRow>('SELECT * FROM chunks WHERE recording_id = $1 ORDER BY seq', [recordingId]);
  return rows.map(toChunk);
}

/** What the vault holds of a recording, seq by seq: what upload-state and the receipt are made of. */
export interface ManifestEntry {
  seq: number;
  size: number;
  sha256: string;
}

export async function chunkManifest(q: Queryable, recordingId: string): Promise<ManifestEntry[]> {
  return q.query<ManifestEntry>('SELECT seq, size, sha256 FROM chunks WHERE recording_id = $1 ORDER BY seq', [
    recordingId,
  ]);
}

export async function saveReceipt(q: Queryable, id: string, receipt: UploadReceipt): Promise<void> {
  await q.query('UPDATE recordings SET receipt = $2 WHERE id = $1', [id, JSON.stringify(receipt)]);
}

/**
 * Closes every recording of the order still taking chunks, because consent was
 * withdrawn: `incomplete` at once, kept (like one the sweeper closes) until
 * retention after its last chunk. The caller holds the order's lock.
 */
export async function stopRunningRecordings(
  q: Queryable,
  orderId: string,
  at: Date,
  retentionMs: number,
): Promise<{ id: string; storedChunks: number; retainUntil: Date }[]> {
  const rows = await q.query<{ id: string; stored_chunks: number; retain_until: Date }>(
    `UPDATE recordings
        SET status = 'incomplete', incomplete_at = $2, incomplete_reason = 'consent_withdrawn',
            retain_until = COALESCE(last_chunk_at, created_at) + $3 * interval '1 millisecond'
      WHERE order_id = $1 AND status = 'recording'
      RETURNING id, stored_chunks, retain_until`,
    [orderId, at, retentionMs],
  );
  return rows.map((r) => ({ id: r.id, storedChunks: Number(r.stored_chunks), retainUntil: r.retain_until }));
}

export interface StartKey {
  recordingId: string;
  requestHash: string;
  createdAt: Date;
}

export async function findStartKey(q: Queryable, principalId: string, key: string): Promise<StartKey | null> {
  const [row] = await q.query<{ recording_id: string; request_hash: string; created_at: Date }>(
    'SELECT recording_id, request_hash, created_at FROM recording_start_keys WHERE principal_id = $1 AND idempotency_key = $2',
    [principalId, key],
  );
  return row ? { recordingId: row.recording_id, requestHash: row.request_hash, createdAt: row.created_at } : null;
}

/**
 * Binds an Idempotency-Key to a new recording. A row older than `staleBefore`
 * is taken over; a fresher one (another start with this key committed first)
 * is left alone and false is returned.
 */
export async function claimStartKey(
  q: Queryable,
  k: StartKey & { principalId: string; key: string },
  staleBefore: Date,
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO recording_start_keys (principal_id, idempotency_key, request_hash, recording_id, created_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (principal_id, idempotency_key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, recording_id = EXCLUDED.recording_id, created_at = EXCLUDED.created_at
      WHERE recording_start_keys.created_at <= $6
     RETURNING 1 AS claimed`,
    [k.principalId, k.key, k.requestHash, k.recordingId, k.createdAt, staleBefore],
  );
  return rows.length === 1;
}

export async function storedSeqs(q: Queryable, recordingId: string): Promise<number[]> {
  const rows = await q.query<{ seq: number }>('SELECT seq FROM chunks WHERE recording_id = $1 ORDER BY seq', [
    recordingId,
  ]);
  return rows.map((r) => r.seq);
}
