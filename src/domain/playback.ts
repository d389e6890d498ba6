import { Readable } from 'node:stream';
import { appendAudit } from '../audit/audit-log.js';
import { decryptChunk } from '../crypto/chunk-format.js';
import { ChunkIntegrityError, KeyIntegrityError, KeyUnavailableError } from '../crypto/errors.js';
import { openSealedContentKey } from '../crypto/order-keys.js';
import { getSodium } from '../crypto/sodium.js';
import { conflict, forbidden, gone, notFound, unavailable, VaultError } from '../errors.js';
import type { AccessRequestRecord } from '../store/db/access-requests.js';
import * as requests from '../store/db/access-requests.js';
import { chunkObjectKeys, chunkSizes } from '../store/db/chunk-reads.js';
import type { Queryable } from '../store/db/database.js';
import { activeHoldsOfOrder } from '../store/db/holds.js';
import type { OrderRecord } from '../store/db/orders.js';
import * as orders from '../store/db/orders.js';
import type { RecordingRecord } from '../store/db/recordings.js';
import * as recordings from '../store/db/recordings.js';
import { type ChunkWindow, chunkWindow, decideRange, type PlainRange } from './byte-ranges.js';
import type { DomainDeps } from './deps.js';
import { openOrderSecretKey } from './order-key-epochs.js';
import type { Principal } from './principal.js';
import { isExpiredAt } from './retention.js';
import { effectiveStatus } from './sign-off.js';
import type { PlaybackFormat } from './vocabulary.js';
import { emitEventOnce } from './webhooks.js';

/**
 * Approved playback (SPEC step 7): only the requester of an approved request
 * whose grant has not run out, only recordings of the order it names. The
 * order's secret key is unwrapped for this one stream, opens the recording's
 * content key and is wiped at once; the content key is wiped when the stream
 * ends. Chunks are fetched, authenticated and sent one by one, so memory does
 * not grow with the recording. Any chunk that does not authenticate, or is
 * missing, ends the stream (fail closed), is counted and is audited.
 */

export interface PlaybackGrant {
  request: AccessRequestRecord;
  recording: RecordingRecord;
  order: OrderRecord;
}

export async function authorizePlayback(
  deps: Pick<DomainDeps, 'clock'>,
  q: Queryable,
  actor: Principal,
  requestId: string,
  recordingId: string,
): Promise<PlaybackGrant> {
  const now = deps.clock.now();
  const request = await requests.findRequest(q, requestId);
  if (!request) throw notFound('access request');
  if (request.requesterId !== actor.id)
    throw forbidden('only the officer who filed this access request may play its audio', 'not_your_request');
  const status = effectiveStatus(request, now);
  if (status === 'expired') throw gone('request_expired', 'this access request expired before it was decided');
  if (status === 'revoked') throw gone('grant_revoked', 'a security head ended this grant; file a new request');
  if (status !== 'approved')
    throw forbidden(`this access request is ${status}; audio plays only after both sign-offs`, 'request_not_approved');
  if (!request.grantExpiresAt || now.getTime() >= request.grantExpiresAt.getTime()) {
    throw gone('grant_expired', 'the time to play this approved request has run out; file a new request');
  }
  const recording = await recordings.findRecording(q, recordingId);
  if (!recording) throw notFound('recording');
  if (recording.orderId !== request.orderId)
    throw forbidden('this recording belongs to another order than the request names', 'recording_not_in_request');
  const order = await orders.findOrder(q, request.orderId);
  if (!order) throw notFound('order');
  // Expiry is decided by time here, not by the sweeper having run (SPEC step 8).
  const held = (await activeHoldsOfOrder(q, order.orderId, now)).length > 0;
  if (isExpiredAt(recording, now, held) || order.shreddedAt || !order.wrappedSecretKey) {
    throw gone('recording_expired', 'this recording was destroyed at the end of its retention');
  }
  if (recording.status === 'recording')
    throw conflict('recording_in_progress', 'this recording is still being uploaded');
  // A grant covers only recordings already sealed or incomplete when the request was approved (SPEC step 7).
  const closedAt = recording.sealedAt ?? recording.incompleteAt;
  if (!closedAt || !request.decidedAt || closedAt.getTime() > request.decidedAt.getTime())
    throw forbidden(
      'this recording was still being made when the request was approved; the grant does not cover it',
      'recording_not_in_grant',
    );
  return { request, recording, order };
}

/** Which chunks make the recording and which of them is the final one. */
interface ChunkPlan {
  /** plaintext size of each seq 0..n-1 */
  sizes: Int32Array;
  /** true when the last seq must authenticate as final; 'either' for an unfinished recording's (decided by trying) */
  lastFinal: true | 'either';
  /** a sealed recording whose rows are not all there: the first missing seq */
  missingSeq: number | null;
}

async function planChunks(q: Queryable, recording: RecordingRecord): Promise<ChunkPlan> {
  const rows = await chunkSizes(q, recording.id);
  let contiguous = 0;
  while (contiguous < rows.length && rows[contiguous]?.seq === contiguous) contiguous++;
  if (recording.status === 'sealed') {
    const count = recording.chunkCount ?? 0;
    const usable = Math.min(contiguous, count);
    const sizes = Int32Array.from(rows.slice(0, usable), (r) => r.plaintextSize);
    // Rows missing from a sealed recording (never the case unless the database was changed) fail closed at the first hole.
    return { sizes, lastFinal: true, missingSeq: usable < count ? usable : null };
  }
  // incomplete: the contiguous prefix from seq 0; its last chunk may or may not be the phone's final one.
  return {
    sizes: Int32Array.from(rows.slice(0, contiguous), (r) => r.plaintextSize),
    lastFinal: 'either',
    missingSeq: null,
  };
}

export type OpenedPlayback =
  | { kind: 'unsatisfiable'; total: number }
  | {
      kind: 'stream';
      mimeType: string;
      total: number;
      range: PlainRange | null;
      length: number;
      /** the recording ended without its final chunk: what plays is a prefix (header Vault-Recording-Truncated) */
      truncated: boolean;
      body: Readable;
    };

export interface OpenOptions {
  format: PlaybackFormat;
  rangeHeader?: string;
}

/**
 * Re-checks the grant, audits the start, unwraps the keys and decrypts the
 * first chunk before returning, so that a caller can still answer with a clean
 * error status when that chunk fails.
 */
export async function openPlayback(
  deps: DomainDeps,
  actor: Principal,
  grant: PlaybackGrant,
  options: OpenOptions,
): Promise<OpenedPlayback> {
  const at = deps.clock.now();
  const requestId = grant.request.id;
  const started = await deps.db.transaction(async (tx) => {
    // The grant is checked again where the start is audited: it may have run out, or retention struck, meanwhile.
    const { request, recording, order } = await authorizePlayback(deps, tx, actor, requestId, grant.recording.id);
    const plan = await planChunks(tx, recording);
    let total = 0;
    for (const s of plan.sizes) total += s;
    const decision = decideRange(options.rangeHeader, total);
    const range = decision.kind === 'partial' ? decision.range : null;
    const audited = {
      requestId,
      format: options.format,
      range: options.rangeHeader ?? null,
      total,
      chunks: plan.sizes.length,
    };
    if (decision.kind === 'unsatisfiable') {
      await appendAudit(tx, at, {
        actorId: actor.id,
        action: 'playback.refused',
        outcome: 'refused',
        orderId: order.orderId,
        recordingId: recording.id,
        details: { ...audited, status: 416 },
      });
      return { recording, order, plan, total, range, unsatisfiable: true };
    }
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'playback.started',
      outcome: 'ok',
      orderId: order.orderId,
      recordingId: recording.id,
      details: { ...audited, served: range ? `${range.start}-${range.end}` : null, status: range ? 206 : 200 },
    });
    await emitEventOnce(tx, deps, at, 'recording.unsealed', `${requestId}/${recording.id}`, {
      recordingId: recording.id,
      orderId: order.orderId,
      requestId,
      requesterId: actor.id,
      department: request.requesterDepartment,
      purpose: request.purpose,
      status: 'approved',
      unsealedAt: at.toISOString(),
      grantExpiresAt: request.grantExpiresAt?.toISOString() ?? null,
    });
    return { recording, order, plan, total, range, unsatisfiable: false };
  });
  if (started.unsatisfiable) return { kind: 'unsatisfiable', total: started.total };

  const { recording, order, plan, total, range } = started;
  const where = { actor, requestId, orderId: order.orderId, recordingId: recording.id, format: options.format };
  // A sealed recording whose chunk rows are not all there cannot be played whole: fail closed before any key is opened.
  if (plan.missingSeq !== null) throw await integrityFailure(deps, where, plan.missingSeq, 'missing');
  const contentKey = await unsealContentKey(deps, order, recording).catch(async (err: unknown) => {
    if (err instanceof KeyIntegrityError) throw await integrityFailure(deps, where, null, 'key_not_authentic');
    if (err instanceof KeyUnavailableError) throw unavailable('the key encryption key of this order', err, 3600);
    throw err;
  });
  let lastFinal = true;
  if (plan.lastFinal === 'either' && plan.sizes.length > 0) {
    try {
      lastFinal = await lastChunkIsFinal(deps, where, contentKey, plan.sizes.length - 1);
    } catch (err) {
      (await getSodium()).memzero(contentKey);
      throw err;
    }
  }
  // Sealed recordings end in their final chunk (it authenticated as final); an unfinished one may not.
  const truncated = plan.lastFinal === 'either' && (plan.sizes.length === 0 || !lastFinal);
  const body = new PlaintextStream(deps, {
    ...where,
    contentKey,
    sizes: plan.sizes,
    lastFinal,
    window: chunkWindow(plan.sizes, range),
  });
  try {
    await body.prime();
  } catch (err) {
    body.destroy();
    throw err;
  }
  return {
    kind: 'stream',
    mimeType: recording.mimeType,
    total,
    range,
    length: range ? range.end - range.start + 1 : total,
    truncated,
    body,
  };
}

/**
 * Whether the last chunk of an unfinished recording's prefix is the phone's
 * final one, decided before any header is sent (so a truncated recording can
 * say so): it authenticates either as final or as not final. One that does
 * neither is an integrity failure, like any chunk that does not authenticate.
 */
async function lastChunkIsFinal(deps: DomainDeps, where: Where, contentKey: Uint8Array, seq: number): Promise<boolean> {
  const key = (await chunkObjectKeys(deps.db, where.recordingId, seq, seq)).get(seq);
  const ciphertext = key === undefined ? null : await deps.blobs.get(key);
  if (!ciphertext) throw await integrityFailure(deps, where, seq, 'missing');
  for (const final of [true, false]) {
    try {
      decryptChunk({ contentKey, recordingId: where.recordingId, seq, final, chunk: ciphertext });
      return final;
    } catch (err) {
      if (!(err instanceof ChunkIntegrityError)) throw err;
    }
  }
  throw await integrityFailure(deps, where, seq, 'not_authentic');
}

async function unsealContentKey(deps: DomainDeps, order: OrderRecord, recording: RecordingRecord): Promise<Uint8Array> {
  const sodium = await getSodium();
  // Through the epoch key; a destroyed epoch key answers 410 order_shredded (a restored backup, say).
  const secretKey = await openOrderSecretKey(deps, order.orderId);
  try {
    return openSealedContentKey({
      publicKey: order.publicKey,
      secretKey,
      sealedContentKey: recording.sealedContentKey,
    });
  } finally {
    sodium.memzero(secretKey);
  }
}

/** How far ahead ciphertext is fetched: enough to hide storage latency (a filesystem read is ~4 thread-pool hops of ~0.1 ms each here; 16 lifted 40 KB playback from 28 to 50 MiB/s in the bench), bounded in bytes so memory is too. */
export const PREFETCH_CHUNKS = 16;
const PREFETCH_BYTES = 4 * 1024 * 1024;
const KEY_PAGE = 256;

interface Where {
  actor: Principal;
  requestId: string;
  orderId: string;
  recordingId: string;
  format: PlaybackFormat;
}

interface StreamContext extends Where {
  contentKey: Uint8Array;
  sizes: Int32Array;
  /** whether the last seq is the phone's final chunk (it must authenticate as such) */
  lastFinal: boolean;
  window: ChunkWindow | null;
}

type FailureReason = 'not_authentic' | 'missing' | 'key_not_authentic';

/** Counts and audits (in its own transaction) a chunk that failed; returns the error that ends the stream. */
async function integrityFailure(
  deps: DomainDeps,
  where: Where,
  seq: number | null,
  reason: FailureReason,
): Promise<VaultError> {
  deps.metrics.integrityFailures.inc();
  const at = deps.clock.now();
  await deps.db.transaction((tx) =>
    appendAudit(tx, at, {
      actorId: where.actor.id,
      action: 'playback.integrity_failure',
      outcome: 'failed',
      orderId: where.orderId,
      recordingId: where.recordingId,
      details: { requestId: where.requestId, seq, reason, format: where.format },
    }),
  );
  const message =
    seq === null
      ? "this recording's keys did not authenticate; playback stopped"
      : `chunk ${seq} of this recording ${reason === 'missing' ? 'is missing from storage' : 'did not authenticate'}; playback stopped`;
  return new VaultError('integrity', 'integrity_failure', message);
}

/** Decrypted plaintext of one window of chunks, pulled chunk by chunk with backpressure. */
class PlaintextStream extends Readable {
  private next: number;
  private sent = 0;
  private pumping = false;
  private pullRequested = false;
  private eof = false;
  private primed: Buffer | null = null;
  private readonly inFlight = new Map<number, Promise<Buffer | null>>();
  private readonly keyPages = new Map<number, Promise<Map<number, string>>>();
  private readonly abort = new AbortController();
  private wiped = false;

  constructor(
    private readonly deps: DomainDeps,
    private readonly ctx: StreamContext,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.next = ctx.window?.firstIndex ?? 0;
  }

  /** Decrypts the first chunk now so a failure there can still become an error status. */
  async prime(): Promise<void> {
    if (this.ctx.window && this.next <= this.ctx.window.lastIndex) this.primed = await this.produce();
  }

  /**
   * Node calls _read once and then waits for a push. A call that arrives while
   * a pump is running must not be dropped: it is remembered and served by that
   * pump, else a paused-then-resumed reader would wait forever.
   */
  override _read(): void {
    this.pullRequested = true;
    if (this.pumping) return;
    this.pumping = true;
    this.pump().catch((err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
  }

  private async pump(): Promise<void> {
    try {
      while (this.pullRequested && !this.destroyed) {
        this.pullRequested = false;
        await this.pushUntilFull();
      }
    } finally {
      // Cleared before the promise settles, so a _read arriving right after starts a new pump.
      this.pumping = false;
    }
  }

  private async pushUntilFull(): Promise<void> {
    const last = this.ctx.window?.lastIndex ?? -1;
    for (;;) {
      if (this.destroyed || this.eof) return;
      let out: Buffer;
      if (this.primed) {
        out = this.primed;
        this.primed = null;
      } else if (this.next <= last) {
        out = await this.produce();
        if (this.destroyed) return;
      } else {
        this.eof = true;
        this.push(null);
        return;
      }
      // Empty chunks are authenticated but add nothing; pushing empty buffers would stall the stream.
      if (out.length > 0 && !this.push(out)) return;
    }
  }

  private async produce(): Promise<Buffer> {
    const window = this.ctx.window;
    if (!window) throw new Error('no window to produce from');
    const seq = this.next++;
    this.fetchAhead(seq, window.lastIndex);
    const pending = this.inFlight.get(seq);
    this.inFlight.delete(seq);
    const ciphertext = pending ? await pending : null;
    if (!ciphertext) return this.fail(seq, 'missing');
    const plaintext = this.decrypt(seq, ciphertext);
    if (plaintext === null || plaintext.length !== this.ctx.sizes[seq]) return this.fail(seq, 'not_authentic');
    const skip = seq === window.firstIndex ? window.skip : 0;
    const take = Math.min(plaintext.length - skip, window.length - this.sent);
    this.sent += take;
    return Buffer.from(plaintext.buffer, plaintext.byteOffset + skip, take);
  }

  private decrypt(seq: number, ciphertext: Buffer): Uint8Array | null {
    const final = seq === this.ctx.sizes.length - 1 && this.ctx.lastFinal;
    try {
      return decryptChunk({
        contentKey: this.ctx.contentKey,
        recordingId: this.ctx.recordingId,
        seq,
        final,
        chunk: ciphertext,
      });
    } catch (err) {
      if (!(err instanceof ChunkIntegrityError)) throw err;
      return null;
    }
  }

  private fetchAhead(from: number, last: number): void {
    let bytes = 0;
    for (const s of this.inFlight.keys()) bytes += this.ctx.sizes[s] ?? 0;
    for (let s = from; s <= last && this.inFlight.size < PREFETCH_CHUNKS; s++) {
      if (this.inFlight.has(s)) continue;
      if (s > from && bytes >= PREFETCH_BYTES) break;
      bytes += this.ctx.sizes[s] ?? 0;
      this.inFlight.set(s, this.fetchChunk(s));
    }
  }

  private async fetchChunk(seq: number): Promise<Buffer | null> {
    const key = (await this.keyPage(seq)).get(seq);
    if (key === undefined) return null;
    return this.deps.blobs.get(key, { signal: this.abort.signal });
  }

  private keyPage(seq: number): Promise<Map<number, string>> {
    const page = Math.floor(seq / KEY_PAGE);
    let keys = this.keyPages.get(page);
    if (!keys) {
      for (const old of this.keyPages.keys()) if (old < page) this.keyPages.delete(old);
      keys = chunkObjectKeys(this.deps.db, this.ctx.recordingId, page * KEY_PAGE, page * KEY_PAGE + KEY_PAGE - 1);
      this.keyPages.set(page, keys);
    }
    return keys;
  }

  private async fail(seq: number, reason: FailureReason): Promise<never> {
    throw await integrityFailure(this.deps, this.ctx, seq, reason);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.abort.abort();
    const pending = [...this.inFlight.values(), ...this.keyPages.values()];
    this.inFlight.clear();
    this.keyPages.clear();
    // Outstanding fetches were aborted; their outcome no longer matters, only that they are over before the key is wiped.
    void Promise.allSettled(pending)
      .then(async () => {
        if (!this.wiped) {
          this.wiped = true;
          (await getSodium()).memzero(this.ctx.contentKey);
        }
      })
      .then(
        () => callback(err),
        (wipeErr: unknown) => callback(wipeErr instanceof Error ? wipeErr : err),
      );
  }
}
