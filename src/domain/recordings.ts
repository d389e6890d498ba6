import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.js';
import { inspectChunk } from '../crypto/chunk-format.js';
import { addMs } from '../durations.js';
import { badRequest, conflict, gone, notFound, tooLarge } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import { activeHoldsOfOrder } from '../store/db/holds.js';
import * as orders from '../store/db/orders.js';
import type { RecordingRecord } from '../store/db/recordings.js';
import * as recordings from '../store/db/recordings.js';
import { consentGate } from './consent.js';
import type { DomainDeps } from './deps.js';
import { type HoldView, toHoldView } from './holds.js';
import { assertOwnIfBeautician } from './orders.js';
import type { Principal } from './principal.js';

/** The recording, checked to exist and to belong to an order of this beautician. */
async function ownRecording(
  q: Queryable,
  actor: Principal,
  recordingId: string,
  forUpdate = false,
): Promise<RecordingRecord> {
  const rec = await recordings.findRecording(q, recordingId, { forUpdate });
  if (!rec) throw notFound('recording');
  const order = await orders.findOrder(q, rec.orderId);
  if (!order) throw notFound('order');
  assertOwnIfBeautician(actor, order);
  return rec;
}

/** ownRecording for one chunk upload, in a single query that also tells what the seq already holds. */
async function uploadTarget(
  q: Queryable,
  actor: Principal,
  recordingId: string,
  seq: number,
  forUpdate = false,
): Promise<recordings.UploadTarget> {
  const target = await recordings.findUploadTarget(q, recordingId, seq, { forUpdate });
  if (!target) throw notFound('recording');
  assertOwnIfBeautician(actor, target);
  return target;
}

function assertAcceptsChunks(rec: RecordingRecord): void {
  if (rec.status === 'expired') throw gone('recording_expired', 'this recording has expired and was destroyed');
  if (rec.status !== 'recording')
    throw conflict(`recording_${rec.status}`, `this recording is ${rec.status} and takes no more chunks`);
}

export async function startRecording(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
  input: { sealedContentKey: Uint8Array; mimeType: string },
): Promise<{ recordingId: string; maxChunkBytes: number }> {
  const at = deps.clock.now();
  const recordingId = deps.ids.newId('rec');
  await deps.db.transaction(async (tx) => {
    const order = await orders.lockOrder(tx, orderId);
    if (!order) throw notFound('order');
    assertOwnIfBeautician(actor, order);
    if (order.shreddedAt) throw gone('order_shredded', "this order's keys were destroyed");
    const gate = consentGate(await orders.listConsents(tx, orderId));
    if (!gate.open) throw conflict('consent_required', gate.reason);
    await recordings.insertRecording(tx, {
      id: recordingId,
      orderId,
      mimeType: input.mimeType,
      sealedContentKey: input.sealedContentKey,
      createdAt: at,
    });
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'recording.started',
      outcome: 'ok',
      orderId,
      recordingId,
      details: { mimeType: input.mimeType },
    });
  });
  return { recordingId, maxChunkBytes: deps.config.maxChunkBytes };
}

export type PutChunkResult = { outcome: 'stored' | 'duplicate'; seq: number; size: number; sha256: string };

/** The object key names the body's hash: a conflicting upload never overwrites a stored chunk. */
export const chunkObjectKey = (recordingId: string, seq: number, sha256: string): string =>
  `recordings/${recordingId}/${String(seq).padStart(6, '0')}-${sha256}`;

/**
 * Stores one encrypted chunk. Acknowledged (resolves) only after the object
 * is durable in storage and its row committed with its audit entry.
 */
export async function putChunk(
  deps: DomainDeps,
  actor: Principal,
  recordingId: string,
  seq: number,
  body: Buffer,
): Promise<PutChunkResult> {
  if (body.length > deps.config.maxChunkBytes)
    throw tooLarge(`a chunk may be at most ${deps.config.maxChunkBytes} bytes`);
  const before = await uploadTarget(deps.db, actor, recordingId, seq);
  assertAcceptsChunks(before.recording);
  const shape = inspectChunk(body);
  if (!shape.ok) {
    const why =
      shape.reason === 'bad_version'
        ? 'must start with the version byte 0x01'
        : 'is shorter than version, nonce and tag';
    throw badRequest('body', `the chunk ${why}`, 'invalid_chunk');
  }
  const sha256 = createHash('sha256').update(body).digest('hex');
  const result = { seq, size: body.length, sha256 };
  if (before.storedSha256 !== null) return sameOrConflict(deps, before.storedSha256, result);

  const objectKey = chunkObjectKey(recordingId, seq, sha256);
  await deps.blobs.put(objectKey, body);
  const at = deps.clock.now();
  const stored = await deps.db.transaction(async (tx) => {
    // Locked, so that a completion or the sweeper cannot change the recording between this check and the insert.
    const target = await uploadTarget(tx, actor, recordingId, seq, true);
    assertAcceptsChunks(target.recording);
    if (target.storedSha256 !== null) return sameOrConflict(deps, target.storedSha256, result);
    const chunk = {
      recordingId,
      seq,
      sha256,
      size: body.length,
      plaintextSize: shape.plaintextLength,
      objectKey,
      storedAt: at,
    };
    if (!(await recordings.insertChunk(tx, chunk))) {
      const winner = await recordings.findChunk(tx, recordingId, seq);
      if (!winner) throw new Error('chunk row vanished inside its transaction');
      return sameOrConflict(deps, winner.sha256, result);
    }
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'chunk.stored',
      outcome: 'ok',
      orderId: target.recording.orderId,
      recordingId,
      details: { seq, size: body.length, sha256 },
    });
    return { outcome: 'stored' as const, ...result };
  });
  if (stored.outcome === 'stored') {
    deps.metrics.chunksStored.inc();
    deps.metrics.chunkBytesStored.inc(body.length);
  }
  return stored;
}

function sameOrConflict(
  deps: DomainDeps,
  storedSha256: string,
  result: Omit<PutChunkResult, 'outcome'>,
): PutChunkResult {
  if (storedSha256 === result.sha256) {
    deps.metrics.chunksDuplicate.inc();
    return { outcome: 'duplicate', ...result };
  }
  deps.metrics.chunksConflicting.inc();
  throw conflict('chunk_conflict', `seq ${result.seq} is already stored with a different body`);
}

export async function uploadState(
  deps: DomainDeps,
  actor: Principal,
  recordingId: string,
): Promise<{ recordingId: string; status: string; storedSeqs: number[] }> {
  const rec = await ownRecording(deps.db, actor, recordingId);
  return { recordingId, status: rec.status, storedSeqs: await recordings.storedSeqs(deps.db, recordingId) };
}

const MAX_LISTED_MISSING = 1000;

export async function completeRecording(
  deps: DomainDeps,
  actor: Principal,
  recordingId: string,
  chunkCount: number,
): Promise<{ recordingId: string; status: 'sealed'; chunkCount: number; retainUntil: string }> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const rec = await ownRecording(tx, actor, recordingId, true);
    if (rec.status === 'sealed' && rec.retainUntil) {
      // The phone retrying a completion whose answer it lost gets the same answer.
      if (rec.chunkCount === chunkCount)
        return { recordingId, status: 'sealed', chunkCount, retainUntil: rec.retainUntil.toISOString() };
      throw conflict('recording_sealed', `this recording is already sealed with ${rec.chunkCount} chunks`);
    }
    assertAcceptsChunks(rec);
    const seqs = await recordings.storedSeqs(tx, recordingId);
    const present = new Set(seqs);
    const missing: number[] = [];
    for (let s = 0; s < chunkCount && missing.length < MAX_LISTED_MISSING; s++) if (!present.has(s)) missing.push(s);
    if (missing.length > 0) {
      const total = chunkCount - seqs.filter((s) => s < chunkCount).length;
      throw conflict('chunks_missing', `${total} of ${chunkCount} chunks are missing`, { missing });
    }
    const beyond = seqs.filter((s) => s >= chunkCount);
    if (beyond.length > 0)
      throw badRequest('chunkCount', `chunks beyond chunkCount are stored (seq ${beyond[0]}); chunkCount is too small`);
    const retainUntil = addMs(at, deps.config.retentionMs);
    await recordings.sealRecording(tx, recordingId, at, chunkCount, retainUntil);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'recording.sealed',
      outcome: 'ok',
      orderId: rec.orderId,
      recordingId,
      details: { chunkCount, storedBytes: rec.storedBytes, retainUntil: retainUntil.toISOString() },
    });
    return { recordingId, status: 'sealed' as const, chunkCount, retainUntil: retainUntil.toISOString() };
  });
}

export interface RecordingMetadata {
  recordingId: string;
  orderId: string;
  status: RecordingRecord['status'];
  mimeType: string;
  chunkCount: number | null;
  storedChunks: number;
  storedBytes: number;
  createdAt: string;
  lastChunkAt: string | null;
  sealedAt: string | null;
  incompleteAt: string | null;
  retainUntil: string | null;
  expiredAt: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toMetadata(r: RecordingRecord): RecordingMetadata {
  return {
    recordingId: r.id,
    orderId: r.orderId,
    status: r.status,
    mimeType: r.mimeType,
    chunkCount: r.chunkCount,
    storedChunks: r.storedChunks,
    storedBytes: r.storedBytes,
    createdAt: r.createdAt.toISOString(),
    lastChunkAt: iso(r.lastChunkAt),
    sealedAt: iso(r.sealedAt),
    incompleteAt: iso(r.incompleteAt),
    retainUntil: iso(r.retainUntil),
    expiredAt: iso(r.expiredAt),
  };
}

/** Metadata only, never key material; the listing itself is an access and is audited. */
export async function listOrderRecordings(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
): Promise<{ orderId: string; recordings: (RecordingMetadata & { holds: HoldView[] })[] }> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    if (!(await orders.findOrder(tx, orderId))) throw notFound('order');
    // Holds are placed on the order and keep every recording of it.
    const active = (await activeHoldsOfOrder(tx, orderId, at)).map(toHoldView);
    const list = (await recordings.listRecordingsOfOrder(tx, orderId)).map((r) => ({
      ...toMetadata(r),
      holds: active,
    }));
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'recordings.listed',
      outcome: 'ok',
      orderId,
      details: { count: list.length },
    });
    return { orderId, recordings: list };
  });
}
