import { chmod, open } from 'node:fs/promises';
import path from 'node:path';
import { GetBucketVersioningCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config, S3Config } from '../config.js';
import type { WrappedEpochKey } from '../crypto/epoch-keys.js';
import { KeyIntegrityError } from '../crypto/errors.js';
import { fromBase64Url, toBase64Url } from '../crypto/sodium.js';
import type { BlobStore, CallOptions, DeleteOutcome } from './blobs/blob-store.js';
import { createFilesystemBlobStore } from './blobs/filesystem.js';
import { createS3BlobStore, createS3Client } from './blobs/s3.js';

/**
 * @module
 * Where epoch keys live: outside the database, so that no database backup
 * ever holds one. One interface, two backends (a directory, or an S3 bucket
 * without versioning), one contract suite (test/contract/epoch-key-store.contract.ts).
 * Both are a BlobStore underneath, so writes are durable the same way
 * objects are (fsync + rename, or a completed PutObject).
 *
 * Each key is one small JSON object holding the epoch id, the KEK version and
 * the wrapped key (never the key itself):
 *   epochs/<start, colons removed>   e.g. epochs/2026-01-08T000000.000Z
 *   holds/<hold id>                  a legal hold's own key (epoch id "hold:<hold id>")
 */
export interface EpochKeyStore {
  /** The stored key, or null when there is none (never made, or destroyed). */
  get(epoch: string, options?: CallOptions): Promise<WrappedEpochKey | null>;
  /** Stores the key durably before resolving; replaces a stored one (KEK rotation). */
  put(key: WrappedEpochKey, options?: CallOptions): Promise<void>;
  /** Removes the one stored copy; NOT_FOUND when it was already gone. */
  destroy(epoch: string, options?: CallOptions): Promise<DeleteOutcome>;
  /** The ids of every stored key, sorted. */
  list(options?: CallOptions): Promise<string[]>;
  ping(options?: CallOptions): Promise<void>;
  close(): Promise<void>;
}

export class EpochKeyStoreError extends Error {
  override name = 'EpochKeyStoreError';
}

const EPOCH_ID = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;
const EPOCH_NAME = /^epochs\/(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;
const HOLD_ID = /^hold:([A-Za-z0-9_-]{1,200})$/;
const HOLD_NAME = /^holds\/([A-Za-z0-9_-]{1,200})$/;

/** The object name of an epoch id (object keys may not hold colons). */
export function epochObjectName(epoch: string): string {
  const e = EPOCH_ID.exec(epoch);
  if (e) return `epochs/${e[1]}T${e[2]}${e[3]}${e[4]}.${e[5]}Z`;
  const h = HOLD_ID.exec(epoch);
  if (h) return `holds/${h[1]}`;
  throw new EpochKeyStoreError(`not an epoch id: ${JSON.stringify(epoch.slice(0, 80))}`);
}

function epochOfObjectName(name: string): string | null {
  const e = EPOCH_NAME.exec(name);
  if (e) return `${e[1]}T${e[2]}:${e[3]}:${e[4]}.${e[5]}Z`;
  const h = HOLD_NAME.exec(name);
  return h ? `hold:${h[1]}` : null;
}

interface Record {
  v: 1;
  epoch: string;
  kekVersion: number;
  wrappedKey: string;
}

function encode(key: WrappedEpochKey): Buffer {
  const record: Record = {
    v: 1,
    epoch: key.epoch,
    kekVersion: key.kekVersion,
    wrappedKey: toBase64Url(key.wrappedKey),
  };
  return Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
}

function decode(epoch: string, body: Buffer): WrappedEpochKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeyIntegrityError(`the stored key of epoch ${epoch} is not readable`);
  }
  const r = parsed as Partial<Record>;
  const wrappedKey = typeof r.wrappedKey === 'string' ? fromBase64Url(r.wrappedKey) : null;
  if (r.v !== 1 || r.epoch !== epoch || !Number.isInteger(r.kekVersion) || !wrappedKey)
    throw new KeyIntegrityError(`the stored key of epoch ${epoch} is malformed or names another epoch`);
  return { epoch, kekVersion: r.kekVersion as number, wrappedKey };
}

/**
 * An epoch key store over a BlobStore of its own (a directory or a bucket
 * that holds nothing else). `afterDestroy` makes a deletion durable where the
 * backend needs it (a directory entry is only gone for good once its
 * directory is fsynced).
 */
export function epochKeyStoreOver(
  blobs: BlobStore,
  options: { afterDestroy?(objectName: string): Promise<void> } = {},
): EpochKeyStore {
  return {
    async get(epoch, opts) {
      const body = await blobs.get(epochObjectName(epoch), opts);
      return body ? decode(epoch, body) : null;
    },
    async put(key, opts) {
      await blobs.put(epochObjectName(key.epoch), encode(key), opts);
    },
    async destroy(epoch, opts) {
      const name = epochObjectName(epoch);
      const outcome = await blobs.delete(name, opts);
      await options.afterDestroy?.(name);
      return outcome;
    },
    async list(opts) {
      const names = [...(await blobs.list('epochs/', opts)), ...(await blobs.list('holds/', opts))];
      return names.flatMap((n) => epochOfObjectName(n) ?? []).sort();
    },
    ping: (opts) => blobs.ping(opts),
    close: () => blobs.close(),
  };
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A directory of key files, mode 0700, each file 0600, written and removed durably. */
export async function openEpochKeyDir(dir: string): Promise<EpochKeyStore> {
  const root = path.resolve(dir);
  const blobs = await createFilesystemBlobStore(root);
  await chmod(root, 0o700);
  return epochKeyStoreOver(blobs, {
    afterDestroy: (name) =>
      fsyncDir(path.dirname(path.join(root, name))).catch((err: unknown) => {
        // Nothing was ever written under this prefix: there is no directory entry to make durable.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }),
  });
}

/**
 * Whether a bucket keeps old versions of what is overwritten or deleted. A
 * store that does not implement versioning (s3rver answers NotImplemented)
 * keeps none.
 */
export async function bucketVersioning(config: S3Config): Promise<'enabled' | 'suspended' | 'off'> {
  const client = createS3Client(config);
  try {
    const res = await client.send(new GetBucketVersioningCommand({ Bucket: config.bucket }));
    if (res.Status === 'Enabled') return 'enabled';
    if (res.Status === 'Suspended') return 'suspended';
    return 'off';
  } catch (err) {
    if (err instanceof S3ServiceException && err.name === 'NotImplemented') return 'off';
    throw err;
  } finally {
    client.destroy();
  }
}

/**
 * A bucket of its own on the configured S3 store. Refused when the bucket
 * keeps versions: a "destroyed" key would live on as a noncurrent version
 * (suspended versioning still keeps the versions made while it was on).
 */
export async function openEpochKeyBucket(s3: S3Config, bucket: string): Promise<EpochKeyStore> {
  const config = { ...s3, bucket };
  const blobs = await createS3BlobStore({ config, createBucket: true });
  try {
    const versioning = await bucketVersioning(config);
    if (versioning !== 'off')
      throw new EpochKeyStoreError(
        `VAULT_EPOCH_KEY_BUCKET ${bucket} has versioning ${versioning}: a destroyed epoch key would survive as an old version; use a bucket that never had versioning`,
      );
  } catch (err) {
    await blobs.close();
    throw err;
  }
  return epochKeyStoreOver(blobs);
}

/** The configured epoch key store: VAULT_EPOCH_KEY_DIR (default <data dir>/epoch-keys) or VAULT_EPOCH_KEY_BUCKET. */
export function openEpochKeyStore(config: Pick<Config, 'epochKeys' | 's3'>): Promise<EpochKeyStore> {
  if (config.epochKeys.kind === 'dir') return openEpochKeyDir(config.epochKeys.dir);
  if (!config.s3) throw new EpochKeyStoreError('VAULT_EPOCH_KEY_BUCKET needs S3_ENDPOINT and S3_BUCKET');
  return openEpochKeyBucket(config.s3, config.epochKeys.bucket);
}
