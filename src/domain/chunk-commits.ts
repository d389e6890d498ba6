import { type AuditEntryInput, appendAudits } from '../audit/audit-log.js';
import { type Batcher, createBatcher, type ItemOutcome } from '../batcher.js';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Database } from '../store/db/database.js';
import * as recordings from '../store/db/recordings.js';
import type { Principal } from './principal.js';
import { assertAcceptsChunks, type PutChunkResult, sameOrConflict } from './recordings.js';

/**
 * @module The database step of a chunk upload, with group commit: the rows and
 * audit entries of concurrent uploads go into one transaction (one WAL flush),
 * and each upload is acknowledged only once that transaction has committed
 * (src/batcher.ts). The object is already durable in storage when its chunk
 * gets here.
 */

/** A chunk whose object is durably stored, waiting for its row and audit entry. */
export interface ChunkToCommit {
  actor: Principal;
  recordingId: string;
  seq: number;
  sha256: string;
  size: number;
  plaintextSize: number;
  objectKey: string;
}

export type ChunkCommits = Batcher<ChunkToCommit, PutChunkResult>;

type Parts = { db: Database; clock: Clock; metrics: Metrics };

/** The vault's chunk committer (one per vault: it holds the batches in flight; close it before the database). */
export function createChunkCommits(parts: Parts): ChunkCommits {
  return createBatcher<ChunkToCommit, PutChunkResult>({ run: (items) => commitChunks(parts, items) });
}

const fail = (error: unknown): ItemOutcome<PutChunkResult> => ({ ok: false, error });

/** Several chunks (of one or more recordings) in one transaction; one outcome per item, in order. */
export async function commitChunks(
  parts: Parts,
  items: readonly ChunkToCommit[],
): Promise<ItemOutcome<PutChunkResult>[]> {
  const at = parts.clock.now();
  const outcomes = await parts.db.transaction(async (tx) => {
    const out: (ItemOutcome<PutChunkResult> | undefined)[] = new Array(items.length);
    const states = await recordings.lockChunkTakingStates(tx, [...new Set(items.map((i) => i.recordingId))].sort());
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const state = states.get(item.recordingId);
      if (!state) {
        out[i] = fail(notFound('recording'));
        return;
      }
      try {
        assertAcceptsChunks(state);
      } catch (err) {
        out[i] = fail(err);
        return;
      }
      const key = recordings.chunkKey(item.recordingId, item.seq);
      // The same seq twice in one batch (a phone's retry racing its first try): the first goes in, the other is compared with it.
      if (!first.has(key)) first.set(key, i);
    });
    const candidates = [...first.values()];
    const stored = await recordings.insertChunks(
      tx,
      candidates.map((i) => {
        const c = items[i] as ChunkToCommit;
        return { ...c, storedAt: at };
      }),
    );
    const entries: AuditEntryInput[] = [];
    for (const i of candidates) {
      const c = items[i] as ChunkToCommit;
      if (!stored.has(recordings.chunkKey(c.recordingId, c.seq))) continue;
      out[i] = { ok: true, value: { outcome: 'stored', seq: c.seq, size: c.size, sha256: c.sha256 } };
      entries.push({
        actorId: c.actor.id,
        action: 'chunk.stored',
        outcome: 'ok',
        orderId: states.get(c.recordingId)?.orderId ?? null,
        recordingId: c.recordingId,
        details: { seq: c.seq, size: c.size, sha256: c.sha256 },
      });
    }
    await appendAudits(tx, at, entries);
    // Whatever is still open found its seq taken (committed meanwhile, or by an earlier item of this batch).
    const open = items.flatMap((c, i) => (out[i] === undefined ? [{ c, i }] : []));
    if (open.length > 0) {
      const hashes = await recordings.storedChunkHashes(
        tx,
        open.map(({ c }) => c),
      );
      for (const { c, i } of open) {
        const winner = hashes.get(recordings.chunkKey(c.recordingId, c.seq));
        if (winner === undefined) throw new Error('a chunk row neither stored nor found inside its transaction');
        try {
          out[i] = {
            ok: true,
            value: sameOrConflict(parts.metrics, winner, { seq: c.seq, size: c.size, sha256: c.sha256 }),
          };
        } catch (err) {
          out[i] = fail(err);
        }
      }
    }
    return out.map((o) => o ?? fail(new Error('a chunk of the batch got no outcome')));
  });
  for (const o of outcomes) {
    if (o.ok && o.value.outcome === 'stored') {
      parts.metrics.chunksStored.inc();
      parts.metrics.chunkBytesStored.inc(o.value.size);
    }
  }
  return outcomes;
}
