import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../../config.js';
import { unavailable } from '../../errors.js';
import type { BlobStore, ByteRange, CallOptions, DeleteOutcome, ObjectMetadata } from './blob-store.js';
import { assertSafeKey } from './keys.js';

export interface S3StoreOptions {
  config: S3Config;
  /** create the bucket when it does not exist (embedded/dev setups and tests) */
  createBucket?: boolean;
  /** per-request timeout; a stalled store becomes a 503 instead of a hung upload */
  requestTimeoutMs?: number;
}

const statusOf = (err: unknown): number | undefined =>
  err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;

const isNotFound = (err: unknown): boolean =>
  statusOf(err) === 404 || (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound'));

/** Transport failures and 5xx mean the store is unavailable (503 upstream); 4xx are bugs and pass through. */
function translate(err: unknown): unknown {
  if (err instanceof Error && err.name === 'AbortError') return err;
  const status = statusOf(err);
  if (status === undefined || status >= 500) return unavailable('object storage', err);
  return err;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err);
  }
}

/**
 * DeleteObjects requires Content-MD5 (S3 and s3rver); with checksums set to
 * WHEN_REQUIRED the SDK does not add one, so this adds it to the serialised body.
 */
export function withContentMd5(command: DeleteObjectsCommand): DeleteObjectsCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body: unknown };
      if (typeof request.body === 'string')
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      return next(args);
    },
    { step: 'build', name: 'contentMd5' },
  );
  return command;
}

/** The client every S3 call of the vault goes through, set up for any S3-compatible server. */
export function createS3Client(config: S3Config, requestTimeoutMs = 15_000): S3Client {
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials:
      config.accessKeyId && config.secretAccessKey
        ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
        : undefined,
    // Older S3-compatible servers reject the SDK's default CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      connectionTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  });
}

/** Any S3-compatible store (AWS, MinIO, s3rver) through @aws-sdk/client-s3. */
export async function createS3BlobStore(options: S3StoreOptions): Promise<BlobStore> {
  const { config } = options;
  const client = createS3Client(config, options.requestTimeoutMs);
  const Bucket = config.bucket;

  if (options.createBucket) {
    try {
      await client.send(new HeadBucketCommand({ Bucket }));
    } catch (err) {
      if (!isNotFound(err)) throw translate(err);
      await call(() => client.send(new CreateBucketCommand({ Bucket })));
    }
  }

  const store: BlobStore = {
    async put(key: string, body: Uint8Array, opts?: CallOptions): Promise<void> {
      assertSafeKey(key);
      await call(() =>
        client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: body.length }), {
          abortSignal: opts?.signal,
        }),
      );
    },

    async get(key: string, opts?: CallOptions & { range?: ByteRange }): Promise<Buffer | null> {
      assertSafeKey(key);
      const Range = opts?.range ? `bytes=${opts.range.start}-${opts.range.end}` : undefined;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: key, Range }), { abortSignal: opts?.signal });
        const bytes = res.Body ? Buffer.from(await res.Body.transformToByteArray()) : Buffer.alloc(0);
        if (!opts?.range) return bytes;
        // HTTP lets a server send more than the range asked for (s3rver answers `bytes=0-0` with the
        // whole object), so cut the answer to the range, relative to where it says it starts.
        const sentFrom = Number(/^bytes (\d+)-/.exec(res.ContentRange ?? '')?.[1] ?? 0);
        return bytes.subarray(opts.range.start - sentFrom, opts.range.end - sentFrom + 1);
      } catch (err) {
        if (isNotFound(err)) return null;
        if (statusOf(err) === 416) return Buffer.alloc(0);
        throw translate(err);
      }
    },

    async head(key: string, opts?: CallOptions): Promise<ObjectMetadata | null> {
      assertSafeKey(key);
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: key }), { abortSignal: opts?.signal });
        return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw translate(err);
      }
    },

    /** S3's DELETE succeeds whether or not the key exists, so a HEAD first tells the two apart. */
    async delete(key: string, opts?: CallOptions): Promise<DeleteOutcome> {
      if (!(await store.head(key, opts))) return 'NOT_FOUND';
      await call(() => client.send(new DeleteObjectCommand({ Bucket, Key: key }), { abortSignal: opts?.signal }));
      return 'DELETED';
    },

    async list(prefix: string, opts?: CallOptions): Promise<string[]> {
      assertSafeKey(prefix, { prefix: true });
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const token = ContinuationToken;
        const res = await call(() =>
          client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }), {
            abortSignal: opts?.signal,
          }),
        );
        for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
        ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },

    async deletePrefix(prefix: string, opts?: CallOptions): Promise<number> {
      const keys = await store.list(prefix, opts);
      let deleted = 0;
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const command = withContentMd5(
          new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const res = await call(() => client.send(command, { abortSignal: opts?.signal }));
        const failed = res.Errors ?? [];
        if (failed.length > 0)
          throw unavailable('object storage', new Error(`DeleteObjects failed for ${failed.length} keys`));
        deleted += batch.length;
      }
      return deleted;
    },

    async ping(opts?: CallOptions): Promise<void> {
      await call(() => client.send(new HeadBucketCommand({ Bucket }), { abortSignal: opts?.signal }));
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
  return store;
}
