import { mapLimit } from '../concurrency.js';
import { encryptChunk } from '../crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../crypto/sodium.js';
import { DEFAULT_RETRY, expectJson, fetchWithRetry, type RetryPolicy } from './http.js';

/**
 * The phone's side of the upload protocol (SPEC steps 3-4): make a content
 * key, seal it to the order's public key, encrypt chunks, upload them with
 * retries, resume from upload-state after losing the network, complete.
 * The phone keeps ciphertext queued, never the key: forgetKey() wipes it.
 */
export interface PhoneClientOptions {
  baseUrl: string;
  token: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

export interface EncryptedChunk {
  seq: number;
  bytes: Uint8Array;
}

export interface UploadState {
  recordingId: string;
  status: string;
  storedSeqs: number[];
}

export class PhoneClient {
  private readonly retry: RetryPolicy;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: PhoneClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchFn = options.fetch ?? fetch;
  }

  /** One request with bearer auth and retries. */
  send(path: string, init: { method: string; json?: unknown; body?: Uint8Array }): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.body) {
      headers['content-type'] = 'application/octet-stream';
      body = new Uint8Array(init.body);
    }
    return fetchWithRetry(
      this.fetchFn,
      `${this.options.baseUrl}${path}`,
      { method: init.method, headers, body },
      this.retry,
    );
  }

  async startRecording(input: { orderId: string; orderPublicKey: string; mimeType: string }): Promise<RecordingUpload> {
    const sodium = await getSodium();
    const publicKey = fromBase64Url(input.orderPublicKey);
    if (!publicKey || publicKey.length !== sodium.crypto_box_PUBLICKEYBYTES)
      throw new Error('orderPublicKey is not an X25519 public key');
    const contentKey = sodium.randombytes_buf(32);
    const sealedContentKey = toBase64Url(sodium.crypto_box_seal(contentKey, publicKey));
    const res = await this.send(`/v1/orders/${encodeURIComponent(input.orderId)}/recordings`, {
      method: 'POST',
      json: { sealedContentKey, mimeType: input.mimeType },
    });
    const body = await expectJson<{ recordingId: string; maxChunkBytes: number }>(res, 201).catch((err: unknown) => {
      sodium.memzero(contentKey);
      throw err;
    });
    return new RecordingUpload(this, body.recordingId, body.maxChunkBytes, contentKey);
  }

  /** A recording started earlier (e.g. after the app restarted): upload and complete only. */
  resume(recordingId: string): RecordingUpload {
    return new RecordingUpload(this, recordingId, 0, null);
  }
}

export class RecordingUpload {
  constructor(
    private readonly client: PhoneClient,
    readonly recordingId: string,
    readonly maxChunkBytes: number,
    private contentKey: Uint8Array | null,
  ) {}

  /** Encrypts the whole recording's chunks; the last one carries final = 1. */
  encrypt(plaintextChunks: readonly Uint8Array[]): EncryptedChunk[] {
    const key = this.contentKey;
    if (!key) throw new Error('the content key was already forgotten');
    const last = plaintextChunks.length - 1;
    return plaintextChunks.map((plaintext, seq) => ({
      seq,
      bytes: encryptChunk({ contentKey: key, recordingId: this.recordingId, seq, final: seq === last, plaintext }),
    }));
  }

  async forgetKey(): Promise<void> {
    if (!this.contentKey) return;
    (await getSodium()).memzero(this.contentKey);
    this.contentKey = null;
  }

  async uploadChunk(chunk: EncryptedChunk): Promise<'stored' | 'duplicate'> {
    const res = await this.client.send(`/v1/recordings/${this.recordingId}/chunks/${chunk.seq}`, {
      method: 'PUT',
      body: chunk.bytes,
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

  /** Asks which seqs the vault holds and sends only the rest, `parallel` at a time. */
  async uploadMissing(chunks: readonly EncryptedChunk[], parallel = 4): Promise<{ sent: number }> {
    const stored = new Set((await this.uploadState()).storedSeqs);
    const queue = chunks.filter((c) => !stored.has(c.seq));
    await mapLimit(queue, parallel, (chunk) => this.uploadChunk(chunk));
    return { sent: queue.length };
  }

  async complete(chunkCount: number): Promise<{ status: 'sealed'; retainUntil: string }> {
    const res = await this.client.send(`/v1/recordings/${this.recordingId}/complete`, {
      method: 'POST',
      json: { chunkCount },
    });
    return expectJson(res, 200);
  }
}

/** Splits a recording's bytes into chunks of at most `size` bytes. */
export function splitIntoChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  if (size < 1) throw new RangeError('chunk size must be positive');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out.length > 0 ? out : [new Uint8Array(0)];
}
