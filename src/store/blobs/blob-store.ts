/**
 * Object storage for ciphertext. One interface, one file per backend
 * (filesystem.ts, s3.ts), one contract suite (test/contract/blob-store.contract.ts)
 * that every backend passes.
 *
 * Objects are small (one encrypted chunk, at most VAULT_MAX_CHUNK_BYTES), so
 * put/get move Buffers; a recording is streamed chunk by chunk above this layer.
 * Keys are relative paths of `[A-Za-z0-9._-]` segments joined by `/`, never
 * containing `..` or a leading `/`; backends reject anything else.
 */
export interface ObjectMetadata {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ByteRange {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

/** Per-key delete outcome (supabase/storage style): deleting what is gone is fine. */
export type DeleteOutcome = 'DELETED' | 'NOT_FOUND';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface BlobStore {
  /** Stores the whole body durably before resolving (fsync+rename, or a completed PutObject). Overwrites. */
  put(key: string, body: Uint8Array, options?: CallOptions): Promise<void>;
  /** The object's bytes (or the inclusive range of them); null when there is no such object. */
  get(key: string, options?: CallOptions & { range?: ByteRange }): Promise<Buffer | null>;
  head(key: string, options?: CallOptions): Promise<ObjectMetadata | null>;
  delete(key: string, options?: CallOptions): Promise<DeleteOutcome>;
  /** Every key under the prefix, in lexicographic order. */
  list(prefix: string, options?: CallOptions): Promise<string[]>;
  /** Deletes every key under the prefix; returns how many were deleted. */
  deletePrefix(prefix: string, options?: CallOptions): Promise<number>;
  /** Throws when the store cannot be reached (readiness). */
  ping(options?: CallOptions): Promise<void>;
  close(): Promise<void>;
}
