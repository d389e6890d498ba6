import type { Queryable } from './database.js';

/**
 * Reads for playback. A stream needs every chunk's plaintext size up front (to
 * answer Range and Content-Length) but the object keys only a page at a time,
 * so a long recording never puts all its rows in memory at once.
 */
export interface ChunkSize {
  seq: number;
  plaintextSize: number;
}

export async function chunkSizes(q: Queryable, recordingId: string): Promise<ChunkSize[]> {
  const rows = await q.query<{ seq: number; plaintext_size: number }>(
    'SELECT seq, plaintext_size FROM chunks WHERE recording_id = $1 ORDER BY seq',
    [recordingId],
  );
  return rows.map((r) => ({ seq: r.seq, plaintextSize: r.plaintext_size }));
}

/** Object keys of seqs `from..to` inclusive, by seq; a seq without a row is absent from the map. */
export async function chunkObjectKeys(
  q: Queryable,
  recordingId: string,
  from: number,
  to: number,
): Promise<Map<number, string>> {
  const rows = await q.query<{ seq: number; object_key: string }>(
    'SELECT seq, object_key FROM chunks WHERE recording_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq',
    [recordingId, from, to],
  );
  return new Map(rows.map((r) => [r.seq, r.object_key]));
}
