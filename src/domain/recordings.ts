import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.js';
import { inspectChunk } from '../crypto/chunk-format.js';
import { chunksRoot, signReceipt, type UploadReceipt } from '../crypto/receipt.js';
import { toBase64Url } from '../crypto/sodium.js';
import { addMs } from '../durations.js';
import { badRequest, conflict, gone, notFound, tooLarge, type VaultError } from '../errors.js';
import { canonicalJson } from '../json.js';
import type { Metrics } from '../metrics.js';
import type { Queryable } from '../store/db/database.js';
import { activeHoldsOfOrder, type HoldRecord } from '../store/db/holds.js';
import * as orders from '../store/db/orders.js';
import type { RecordingRecord } from '../store/db/recordings.js';
import * as recordings from '../store/db/recordings.js';
import { consentGate } from './consent.js';
import type { DomainDeps } from './deps.js';
import { type HoldView, toHoldView } from './holds.js';
import { followRetention } from './order-key-epochs.js';
import { assertOwnIfBeautician } from './orders.js';
import { hasRole, type Principal } from './principal.js';
import { signedIn } from './principals.js';
import { statusAt } from './retention.js';
import { hashToken } from './tokens.js';

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
): Promise<recordings.UploadTarget> {
  return ownTarget(actor, await recordings.findUploadTarget(q, recordingId, seq));
}

function ownTarget(actor: Principal, target: recordings.UploadTarget | null): recordings.UploadTarget {
  if (!target) throw notFound('recording');
  assertOwnIfBeautician(actor, target);
  return target;
}

/** Who uploads (an active token's principal) and where to (as uploadTarget reads it, unchecked), from one query. */
export interface UploadAuthorization {
  principal: Principal;
  target: recordings.UploadTarget | null;
}

/**
 * The chunk route's authentication and its first read together, one database
 * round trip: null when the token is not an active principal's. putChunk
 * checks the target (exists, this beautician's) when given it.
 */
export async function authenticateUpload(
  deps: Pick<DomainDeps, 'db' | 'clock'>,
  token: string,
  recordingId: string,
  seq: number,
): Promise<UploadAuthorization | null> {
  const found = await recordings.findUploadTargetForToken(deps.db, hashToken(token), recordingId, seq);
  if (found) await signedIn(deps, found.principal);
  return found;
}

export function assertAcceptsChunks(rec: Pick<RecordingRecord, 'status' | 'incompleteReason'>): void {
  if (rec.status === 'expired') throw gone('recording_expired', 'this recording has expired and was destroyed');
  if (rec.status === 'incomplete' && rec.incompleteReason === 'consent_withdrawn')
    throw conflict(
      'consent_withdrawn',
      'a party objected to recording while it was under way; it takes no more chunks',
    );
  if (rec.status !== 'recording')
    throw conflict(`recording_${rec.status}`, `this recording is ${rec.status} and takes no more chunks`);
}

/** How long an Idempotency-Key on a start is honoured (SPEC: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface StartInput {
  sealedContentKey: Uint8Array;
  mimeType: string;
  /** the request's Idempotency-Key header, if it had one */
  idempotencyKey?: string;
}

export interface Started {
  recordingId: string;
  maxChunkBytes: number;
  /** true when an earlier start with the same Idempotency-Key is answered again (200, not 201) */
  replayed: boolean;
}

/** What an Idempotency-Key is bound to: the order and the body, so a reuse for anything else is told apart. */
const startRequestHash = (orderId: string, input: StartInput): string =>
  createHash('sha256')
    .update(canonicalJson({ orderId, sealedContentKey: toBase64Url(input.sealedContentKey), mimeType: input.mimeType }))
    .digest('hex');

/**
 * Starts a recording once both parties consented. With an Idempotency-Key, a
 * start the phone repeats (its answer was lost) within 24 hours gets the same
 * recording back instead of a second one; the same key with another order or
 * body is refused (409 idempotency_key_reused), never silently answered with a
 * recording the request did not describe.
 */
export async function startRecording(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
  input: StartInput,
): Promise<Started> {
  const at = deps.clock.now();
  const newId = deps.ids.newId('rec');
  const requestHash = startRequestHash(orderId, input);
  const staleBefore = addMs(at, -IDEMPOTENCY_WINDOW_MS);
  const { recordingId, replayed } = await deps.db.transaction(async (tx) => {
    // The order's lock also serialises two starts with one key for this order: the second sees the first's row.
    const order = await orders.lockOrder(tx, orderId);
    if (!order) throw notFound('order');
    assertOwnIfBeautician(actor, order);
    const key = input.idempotencyKey;
    if (key !== undefined) {
      const prior = await recordings.findStartKey(tx, actor.id, key);
      if (prior && prior.createdAt.getTime() > staleBefore.getTime()) {
        if (prior.requestHash !== requestHash)
          throw conflict(
            'idempotency_key_reused',
            'this Idempotency-Key was used in the last 24 hours for another start request (other order or body)',
          );
        await appendAudit(tx, at, {
          actorId: actor.id,
          action: 'recording.start_replayed',
          outcome: 'ok',
          orderId,
          recordingId: prior.recordingId,
          details: { firstStartedAt: prior.createdAt.toISOString() },
        });
        return { recordingId: prior.recordingId, replayed: true };
      }
    }
    if (order.shreddedAt) throw gone('order_shredded', "this order's keys were destroyed");
    const gate = consentGate(await orders.listConsents(tx, orderId));
    if (!gate.open) throw conflict('consent_required', gate.reason);
    await recordings.insertRecording(tx, {
      id: newId,
      orderId,
      mimeType: input.mimeType,
      sealedContentKey: input.sealedContentKey,
      createdAt: at,
    });
    if (key !== undefined) {
      const claimed = await recordings.claimStartKey(
        tx,
        { principalId: actor.id, key, requestHash, recordingId: newId, createdAt: at },
        staleBefore,
      );
      // Only another order's start with this key, committed meanwhile, gets here: a different request.
      if (!claimed)
        throw conflict('idempotency_key_reused', 'this Idempotency-Key was just used for another start request');
    }
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'recording.started',
      outcome: 'ok',
      orderId,
      recordingId: newId,
      details: { mimeType: input.mimeType, idempotencyKey: key !== undefined },
    });
    return { recordingId: newId, replayed: false };
  });
  return { recordingId, maxChunkBytes: deps.config.maxChunkBytes, replayed };
}

export type PutChunkResult = { outcome: 'stored' | 'duplicate'; seq: number; size: number; sha256: string };

/** The object key names the body's hash: a conflicting upload never overwrites a stored chunk. */
export const chunkObjectKey = (recordingId: string, seq: number, sha256: string): string =>
  `recordings/${recordingId}/${String(seq).padStart(6, '0')}-${sha256}`;

/**
 * Stores one encrypted chunk. Acknowledged (resolves) only after the object
 * is durable in storage and its row committed with its audit entry.
 * `expectedSha256` is the phone's Content-Digest: a body that does not match
 * it was damaged on the way and is refused before anything is written.
 */
export async function putChunk(
  deps: DomainDeps,
  actor: Principal,
  recordingId: string,
  seq: number,
  body: Buffer,
  options: { expectedSha256?: Uint8Array; authorized?: UploadAuthorization } = {},
): Promise<PutChunkResult> {
  if (body.length > deps.config.maxChunkBytes)
    throw tooLarge(`a chunk may be at most ${deps.config.maxChunkBytes} bytes`);
  const before = options.authorized
    ? ownTarget(actor, options.authorized.target)
    : await uploadTarget(deps.db, actor, recordingId, seq);
  const digest = createHash('sha256').update(body).digest();
  const sha256 = digest.toString('hex');
  // Checked first: a damaged body says nothing reliable about its shape, and the phone must learn to resend it.
  if (options.expectedSha256 && !digest.equals(options.expectedSha256))
    throw await digestMismatch(deps, actor, before.recording, seq, body.length, sha256, options.expectedSha256);
  assertAcceptsChunks(before.recording);
  const shape = inspectChunk(body);
  if (!shape.ok) {
    const why =
      shape.reason === 'bad_version'
        ? 'must start with the version byte 0x01'
        : 'is shorter than version, nonce and tag';
    throw badRequest('body', `the chunk ${why}`, 'invalid_chunk');
  }
  const result = { seq, size: body.length, sha256 };
  if (before.storedSha256 !== null) return sameOrConflict(deps.metrics, before.storedSha256, result);

  const objectKey = chunkObjectKey(recordingId, seq, sha256);
  await deps.blobs.put(objectKey, body);
  // The row, its recording's totals and the audit entry, committed with those of concurrent uploads (group commit).
  return deps.chunkCommits.submit({
    actor,
    recordingId,
    seq,
    sha256,
    size: body.length,
    plaintextSize: shape.plaintextLength,
    objectKey,
  });
}

/** Audits (in a transaction of its own: nothing else is written) and counts a damaged chunk; returns the refusal. */
async function digestMismatch(
  deps: DomainDeps,
  actor: Principal,
  rec: RecordingRecord,
  seq: number,
  size: number,
  receivedSha256: string,
  expectedSha256: Uint8Array,
): Promise<VaultError> {
  deps.metrics.chunksDigestMismatch.inc();
  const at = deps.clock.now();
  await deps.db.transaction((tx) =>
    appendAudit(tx, at, {
      actorId: actor.id,
      action: 'chunk.refused',
      outcome: 'refused',
      orderId: rec.orderId,
      recordingId: rec.id,
      details: {
        seq,
        size,
        code: 'digest_mismatch',
        receivedSha256,
        claimedSha256: Buffer.from(expectedSha256).toString('hex'),
      },
    }),
  );
  return badRequest(
    'content-digest',
    `the body of chunk ${seq} does not match its Content-Digest (damaged on the way?); nothing was stored, send it again`,
    'digest_mismatch',
  );
}

/** A seq already stored: the same body again is a duplicate (200), another body a conflict (409). */
export function sameOrConflict(
  metrics: Pick<Metrics, 'chunksDuplicate' | 'chunksConflicting'>,
  storedSha256: string,
  result: Omit<PutChunkResult, 'outcome'>,
): PutChunkResult {
  if (storedSha256 === result.sha256) {
    metrics.chunksDuplicate.inc();
    return { outcome: 'duplicate', ...result };
  }
  metrics.chunksConflicting.inc();
  throw conflict('chunk_conflict', `seq ${result.seq} is already stored with a different body`);
}

export interface UploadStateView {
  recordingId: string;
  status: RecordingRecord['status'];
  storedSeqs: number[];
  /** what the vault holds, seq by seq: the phone compares sizes and hashes with its own copy */
  chunks: recordings.ManifestEntry[];
  /** while recording: when it becomes `incomplete` if nothing more arrives; once incomplete: when it did */
  incompleteAt: string | null;
}

export async function uploadState(deps: DomainDeps, actor: Principal, recordingId: string): Promise<UploadStateView> {
  const now = deps.clock.now();
  const found = await ownRecording(deps.db, actor, recordingId);
  const held = (await activeHoldsOfOrder(deps.db, found.orderId, now)).length > 0;
  const rec = { ...found, status: statusAt(found, now, held) };
  const chunks = await recordings.chunkManifest(deps.db, recordingId);
  let incompleteAt: Date | null = null;
  if (rec.status === 'recording') incompleteAt = addMs(rec.lastChunkAt ?? rec.createdAt, deps.config.incompleteAfterMs);
  else if (rec.status === 'incomplete') incompleteAt = rec.incompleteAt;
  return {
    recordingId,
    status: rec.status,
    storedSeqs: chunks.map((c) => c.seq),
    chunks,
    incompleteAt: incompleteAt ? incompleteAt.toISOString() : null,
  };
}

const MAX_LISTED_MISSING = 1000;

export interface Completed {
  recordingId: string;
  status: 'sealed';
  chunkCount: number;
  retainUntil: string;
  receipt: UploadReceipt;
}

/** Signs the receipt over the chunks seq 0..chunkCount-1 as stored, and keeps it for retried completions. */
async function issueReceipt(
  deps: DomainDeps,
  tx: Queryable,
  rec: { id: string; sealedAt: Date; retainUntil: Date },
  manifest: readonly recordings.ManifestEntry[],
  chunkCount: number,
): Promise<UploadReceipt> {
  const receipt = signReceipt(deps.logKey, {
    recordingId: rec.id,
    chunkCount,
    chunksRoot: chunksRoot(manifest.filter((c) => c.seq < chunkCount).map((c) => c.sha256)),
    sealedAt: rec.sealedAt.toISOString(),
    retainUntil: rec.retainUntil.toISOString(),
  });
  await recordings.saveReceipt(tx, rec.id, receipt);
  return receipt;
}

const completed = (receipt: UploadReceipt): Completed => ({
  recordingId: receipt.recordingId,
  status: 'sealed',
  chunkCount: receipt.chunkCount,
  retainUntil: receipt.retainUntil,
  receipt,
});

/**
 * Seals the recording once seq 0..chunkCount-1 are all stored and nothing
 * beyond, and answers the log key's signed receipt for exactly those chunks.
 * A retried completion answers the receipt it answered the first time.
 */
export async function completeRecording(
  deps: DomainDeps,
  actor: Principal,
  recordingId: string,
  chunkCount: number,
): Promise<Completed> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const rec = await ownRecording(tx, actor, recordingId, true);
    if (rec.status === 'sealed' && rec.retainUntil && rec.sealedAt) {
      // The phone retrying a completion whose answer it lost gets the same answer.
      if (rec.chunkCount !== chunkCount)
        throw conflict('recording_sealed', `this recording is already sealed with ${rec.chunkCount} chunks`);
      if (rec.receipt) return completed(rec.receipt);
      // Sealed before receipts existed: sign one now, from what was sealed, and keep it.
      const manifest = await recordings.chunkManifest(tx, recordingId);
      const sealed = { id: rec.id, sealedAt: rec.sealedAt, retainUntil: rec.retainUntil };
      return completed(await issueReceipt(deps, tx, sealed, manifest, chunkCount));
    }
    assertAcceptsChunks(rec);
    const manifest = await recordings.chunkManifest(tx, recordingId);
    const seqs = manifest.map((c) => c.seq);
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
    const receipt = await issueReceipt(deps, tx, { id: recordingId, sealedAt: at, retainUntil }, manifest, chunkCount);
    await followRetention(deps, tx, rec.orderId, 'recording.sealed');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'recording.sealed',
      outcome: 'ok',
      orderId: rec.orderId,
      recordingId,
      details: {
        chunkCount,
        storedBytes: rec.storedBytes,
        retainUntil: retainUntil.toISOString(),
        chunksRoot: receipt.chunksRoot,
      },
    });
    return completed(receipt);
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
  /** why it stopped before it was sealed: silence (the sweeper) or an objection while it was under way */
  incompleteReason: recordings.IncompleteReason | null;
  retainUntil: string | null;
  expiredAt: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** `status` is the one at the time of the read (statusAt: expired by time, swept or not). */
function toMetadata(r: RecordingRecord, status: RecordingRecord['status']): RecordingMetadata {
  return {
    recordingId: r.id,
    orderId: r.orderId,
    status,
    mimeType: r.mimeType,
    chunkCount: r.chunkCount,
    storedChunks: r.storedChunks,
    storedBytes: r.storedBytes,
    createdAt: r.createdAt.toISOString(),
    lastChunkAt: iso(r.lastChunkAt),
    sealedAt: iso(r.sealedAt),
    incompleteAt: iso(r.incompleteAt),
    incompleteReason: r.incompleteAt ? (r.incompleteReason ?? 'silence') : null,
    retainUntil: iso(r.retainUntil),
    expiredAt: iso(r.expiredAt),
  };
}

export type ListedRecording = RecordingMetadata & { holds?: HoldView[] };

/** An order's recordings as they read at `at`, and the holds active then (the API and the CLI both read here). */
export async function recordingsOfOrderAt(
  q: Queryable,
  orderId: string,
  at: Date,
): Promise<{ recordings: RecordingMetadata[]; holds: HoldRecord[] }> {
  // Holds are placed on the order and keep every recording of it.
  const holds = await activeHoldsOfOrder(q, orderId, at);
  const list = (await recordings.listRecordingsOfOrder(q, orderId)).map((r) =>
    toMetadata(r, statusAt(r, at, holds.length > 0)),
  );
  return { recordings: list, holds };
}

/**
 * Metadata only, never key material; the listing itself is an access and is
 * audited. A beautician sees only its own orders' recordings (to find one to
 * resume after the app was killed) and not the holds: a hold's reason and note
 * can tell of a complaint about that very beautician.
 */
export async function listOrderRecordings(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
): Promise<{ orderId: string; recordings: ListedRecording[] }> {
  const at = deps.clock.now();
  const seesHolds = hasRole(actor, 'dispute_staff', 'department_head', 'security_head', 'auditor');
  return deps.db.transaction(async (tx) => {
    const order = await orders.findOrder(tx, orderId);
    if (!order) throw notFound('order');
    assertOwnIfBeautician(actor, order);
    const read = await recordingsOfOrderAt(tx, orderId, at);
    const shown = seesHolds ? read.holds.map(toHoldView) : null;
    const list = read.recordings.map((m) => ({ ...m, ...(shown ? { holds: shown } : {}) }));
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
