import type { UploadReceipt } from '../../crypto/receipt.js';
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

/** Inserts the chunk row unless the seq is taken, and adds it to the recording's totals in the same statement; true when this call stored it. */
export async function insertChunk(q: Queryable, c: ChunkRecord): Promise<boolean> {
  const rows = await q.query(
    `WITH ins AS (
       INSERT INTO chunks (recording_id, seq, sha256, size, plaintext_size, object_key, stored_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (recording_id, seq) DO NOTHING
       RETURNING size, stored_at
     )
     UPDATE recordings SET stored_bytes = stored_bytes + ins.size, stored_chunks = stored_chunks + 1,
            last_chunk_at = GREATEST(COALESCE(last_chunk_at, ins.stored_at), ins.stored_at)
       FROM ins
      WHERE recordings.id = $1
     RETURNING 1 AS stored`,
    [c.recordingId, c.seq, c.sha256, c.size, c.plaintextSize, c.objectKey, c.storedAt],
  );
  return rows.length > 0;
}

export interface UploadTarget {
  recording: RecordingRecord;
  /** the beautician the recording's order is assigned to */
  beauticianId: string;
  /** the sha256 of the chunk already stored under the seq asked about, if any */
  storedSha256: string | null;
}

/** Everything a chunk upload checks, in one round trip: the recording, its order's beautician and what the seq already holds. */
export async function findUploadTarget(
  q: Queryable,
  recordingId: string,
  seq: number,
  { forUpdate = false } = {},
): Promise<UploadTarget | null> {
  const [row] = await q.query<RecordingRow & { beautician_id: string; stored_sha256: string | null }>(
    `SELECT r.*, o.beautician_id, c.sha256 AS stored_sha256
       FROM recordings r
       JOIN orders o ON o.order_id = r.order_id
       LEFT JOIN chunks c ON c.recording_id = r.id AND c.seq = $2
      WHERE r.id = $1${forUpdate ? ' FOR UPDATE OF r' : ''}`,
    [recordingId, seq],
  );
  return row ? { recording: toRecording(row), beauticianId: row.beautician_id, storedSha256: row.stored_sha256 } : null;
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
