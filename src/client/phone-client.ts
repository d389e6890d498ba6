import { randomUUID } from 'node:crypto';
import { mapLimit } from '../concurrency.js';
import { encryptChunk } from '../crypto/chunk-format.js';
import type { UploadReceipt } from '../crypto/receipt.js';
import { fromBase64Url, getSodium, toBase64Url } from '../crypto/sodium.js';
import { DEFAULT_RETRY, expectJson, type RetryPolicy, sendWithRetry } from './http.js';
import { checkReceipt, sha256Hex } from './receipt.js';

/**
 * @module
 * The phone's side of the upload protocol (SPEC steps 3-4 and "Upload
 * integrity and receipts"): make a content key, seal it to the order's public
 * key, start the recording under an Idempotency-Key, encrypt chunks, upload
 * each with its Content-Digest and retries, resume from upload-state after
 * losing the network, complete, and check the signed receipt before calling
 * the phone's copy safe to delete. The phone keeps ciphertext, never the key:
 * forgetKey() wipes it. ResumableRecording (resumable.ts) adds the state file
 * that survives the app being killed.
 */
export interface PhoneClientOptions {
  baseUrl: string;
  token: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** the audit log's Ed25519 public key, pinned in the app: receipts are checked against it */
  logPublicKey?: Uint8Array;
}

export interface EncryptedChunk {
  seq: number;
  bytes: Uint8Array;
}

export interface UploadState {
  recordingId: string;
  status: 'recording' | 'sealed' | 'incomplete' | 'expired';
  storedSeqs: number[];
  chunks: { seq: number; size: number; sha256: string }[];
  incompleteAt: string | null;
}

export interface CompleteAnswer {
  recordingId: string;
  status: 'sealed';
  chunkCount: number;
  retainUntil: string;
  receipt: UploadReceipt;
}

/** What finish() reports: the checked receipt; only then may the phone delete its copy. */
export interface Finished {
  receipt: UploadReceipt;
  safeToDelete: true;
}

export class PhoneClient {
  private readonly retry: RetryPolicy;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: PhoneClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchFn = options.fetch ?? fetch;
  }

  get logPublicKey(): Uint8Array | undefined {
    return this.options.logPublicKey;
  }

  /** One request with bearer auth, a per-attempt timeout and retries. */
  send(
    path: string,
    init: { method: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string> },
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers, authorization: `Bearer ${this.options.token}` };
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.body) {
      headers['content-type'] = 'application/octet-stream';
      body = new Uint8Array(init.body);
    }
    return sendWithRetry(
      this.fetchFn,
      `${this.options.baseUrl}${path}`,
      { method: init.method, headers, body },
      this.retry,
    );
  }

  /**
   * Makes the content key, seals it and starts the recording. Retries reuse
   * one Idempotency-Key and one body, so a start whose answer was lost
   * still makes one recording.
   */
  async startRecording(input: {
    orderId: string;
    orderPublicKey: string;
    mimeType: string;
    idempotencyKey?: string;
  }): Promise<RecordingUpload> {
    const sodium = await getSodium();
    const publicKey = fromBase64Url(input.orderPublicKey);
    if (!publicKey || publicKey.length !== sodium.crypto_box_PUBLICKEYBYTES)
      throw new Error('orderPublicKey is not an X25519 public key');
    const contentKey = sodium.randombytes_buf(32);
    try {
      const sealedContentKey = toBase64Url(sodium.crypto_box_seal(contentKey, publicKey));
      const res = await this.send(`/v1/orders/${encodeURIComponent(input.orderId)}/recordings`, {
        method: 'POST',
        json: { sealedContentKey, mimeType: input.mimeType },
        headers: { 'idempotency-key': input.idempotencyKey ?? randomUUID() },
      });
      const body = await expectJson<{ recordingId: string; maxChunkBytes: number }>(res, 200, 201);
      return new RecordingUpload(this, body.recordingId, body.maxChunkBytes, contentKey);
    } catch (err) {
      sodium.memzero(contentKey);
      throw err;
    }
  }

  /** A recording started earlier (e.g. after the app restarted): upload and complete only. */
  resume(recordingId: string): RecordingUpload {
    return new RecordingUpload(this, recordingId, 0, null);
  }
}

export const contentDigest = (bytes: Uint8Array): string =>
  `sha-256=:${Buffer.from(sha256Hex(bytes), 'hex').toString('base64')}:`;

export class RecordingUpload {
  constructor(
    private readonly client: PhoneClient,
    readonly recordingId: string,
    readonly maxChunkBytes: number,
    private contentKey: Uint8Array | null,
  ) {}

  /** Encrypts one chunk as it is recorded; `final` on the last one only. */
  encryptChunk(seq: number, plaintext: Uint8Array, final: boolean): EncryptedChunk {
    const key = this.contentKey;
    if (!key) throw new Error('the content key was already forgotten');
    return { seq, bytes: encryptChunk({ contentKey: key, recordingId: this.recordingId, seq, final, plaintext }) };
  }

  /** Encrypts the whole recording's chunks; the last one carries final = 1. */
  encrypt(plaintextChunks: readonly Uint8Array[]): EncryptedChunk[] {
    const last = plaintextChunks.length - 1;
    return plaintextChunks.map((plaintext, seq) => this.encryptChunk(seq, plaintext, seq === last));
  }

  async forgetKey(): Promise<void> {
    if (!this.contentKey) return;
    (await getSodium()).memzero(this.contentKey);
    this.contentKey = null;
  }

  /** Sends one chunk with its Content-Digest, so that a body damaged on the way is refused and sent again. */
  async uploadChunk(chunk: EncryptedChunk): Promise<'stored' | 'duplicate'> {
    const res = await this.client.send(`/v1/recordings/${this.recordingId}/chunks/${chunk.seq}`, {
      method: 'PUT',
      body: chunk.bytes,
      headers: { 'content-digest': contentDigest(chunk.bytes) },
    });
    const body = await expectJson<{ outcome: 'stored' | 'duplicate' }>(res, 200, 201);
    return body.outcome;
  }

  async uploadState(): Promise<UploadState> {
    return expectJson<UploadState>(
      await this.client.send(`/v1/recordings/${this.recordingId}/upload-state`, { method: 'GET' }),
      200,
    );
  }

  /** Asks which chunks the vault holds and sends the rest, `parallel` at a time. */
  async uploadMissing(chunks: readonly EncryptedChunk[], parallel = 4): Promise<{ sent: number }> {
    const held = new Map((await this.uploadState()).chunks.map((c) => [c.seq, c.sha256]));
    // A seq held with another hash is sent anyway: the vault's 409 chunk_conflict then says what is wrong.
    const queue = chunks.filter((c) => held.get(c.seq) !== sha256Hex(c.bytes));
    await mapLimit(queue, parallel, (chunk) => this.uploadChunk(chunk));
    return { sent: queue.length };
  }

  /** Seals the recording; the receipt in the answer is not yet checked (see finish). */
  async complete(chunkCount: number): Promise<CompleteAnswer> {
    const res = await this.client.send(`/v1/recordings/${this.recordingId}/complete`, {
      method: 'POST',
      json: { chunkCount },
    });
    return expectJson(res, 200);
  }

  /**
   * Completes with every chunk of the recording and checks the receipt against
   * the pinned log key and the phone's own chunks. Resolves only when the
   * phone may delete its copy; ReceiptRejectedError otherwise.
   */
  async finish(chunks: readonly EncryptedChunk[]): Promise<Finished> {
    return this.finishWithHashes(chunks.map((c) => sha256Hex(c.bytes)));
  }

  /** finish() for a phone that keeps its chunks' SHA-256s (hex, seq order) rather than the bytes. */
  async finishWithHashes(chunkSha256s: readonly string[]): Promise<Finished> {
    const logPublicKey = this.client.logPublicKey;
    if (!logPublicKey) throw new Error('no log public key configured: a receipt cannot be checked without one');
    const answer = await this.complete(chunkSha256s.length);
    const receipt = await checkReceipt(answer.receipt, { recordingId: this.recordingId, chunkSha256s, logPublicKey });
    return { receipt, safeToDelete: true };
  }
}

/** Splits a recording's bytes into chunks of at most `size` bytes. */
export function splitIntoChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  if (size < 1) throw new RangeError('chunk size must be positive');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out.length > 0 ? out : [new Uint8Array(0)];
}
