import { createHash } from 'node:crypto';
import { GetObjectLockConfigurationCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config, S3Config } from '../config.js';
import type { BlobStore } from './blobs/blob-store.js';
import { createFilesystemBlobStore } from './blobs/filesystem.js';
import { createS3BlobStore, createS3Client } from './blobs/s3.js';

/**
 * @module
 * Where signed checkpoints are published outside the database
 * (VAULT_CHECKPOINT_DIR or VAULT_CHECKPOINT_BUCKET), so that whoever rewrites
 * the database cannot rewrite what the log already committed to. One object
 * per checkpoint, `checkpoints/<tree size, 16 digits>`, and `latest`, the
 * newest (written by the sequencing lease holder only, so it never goes back).
 *
 * On S3, each checkpoint object is put under Object Lock in compliance mode
 * when the bucket has Object Lock enabled: nobody, not even the account's
 * root user, can delete or overwrite it before its retention ends. A store
 * without Object Lock (s3rver, a plain MinIO bucket) still gets every
 * checkpoint, unlocked; `lock` says which, and the vault warns at start.
 */
export interface CheckpointStore {
  /** 'compliance': every checkpoint object is locked (S3 Object Lock); 'none': a directory or an unlocked bucket */
  readonly lock: 'compliance' | 'none';
  /** Writes the checkpoint of this size durably, and makes it `latest` when it is newer. */
  publish(size: number, note: string): Promise<void>;
  get(size: number): Promise<string | null>;
  latest(): Promise<string | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// How long S3 Object Lock keeps each checkpoint object: longer than any dispute over a recording.
const LOCK_RETENTION_DAYS = 3650;
const LATEST = 'latest';

export const checkpointObjectName = (size: number): string => `checkpoints/${String(size).padStart(16, '0')}`;

function storeOver(
  blobs: BlobStore,
  lock: 'compliance' | 'none',
  putLocked?: (key: string, body: Buffer) => Promise<void>,
): CheckpointStore {
  const put = putLocked ?? ((key: string, body: Buffer) => blobs.put(key, body));
  const read = async (key: string) => (await blobs.get(key))?.toString('utf8') ?? null;
  return {
    lock,
    async publish(size, note) {
      const body = Buffer.from(note, 'utf8');
      await put(checkpointObjectName(size), body);
      const current = await read(LATEST);
      const currentSize = current === null ? -1 : Number(current.split('\n')[1]);
      if (!(currentSize >= size)) await blobs.put(LATEST, body);
    },
    get: (size) => read(checkpointObjectName(size)),
    latest: () => read(LATEST),
    ping: () => blobs.ping(),
    close: () => blobs.close(),
  };
}

/** Whether the bucket locks new objects: GetObjectLockConfiguration, which stores without Object Lock refuse. */
async function objectLockEnabled(config: S3Config): Promise<boolean> {
  const client = createS3Client(config);
  try {
    const res = await client.send(new GetObjectLockConfigurationCommand({ Bucket: config.bucket }));
    return res.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (err) {
    if (
      err instanceof S3ServiceException &&
      ['NotImplemented', 'ObjectLockConfigurationNotFoundError', 'InvalidRequest', 'MethodNotAllowed'].includes(
        err.name,
      )
    )
      return false;
    throw err;
  } finally {
    client.destroy();
  }
}

export async function openCheckpointBucket(s3: S3Config, bucket: string): Promise<CheckpointStore> {
  const config = { ...s3, bucket };
  const blobs = await createS3BlobStore({ config, createBucket: true });
  let locked: boolean;
  try {
    locked = await objectLockEnabled(config);
  } catch (err) {
    await blobs.close();
    throw err;
  }
  if (!locked) return storeOver(blobs, 'none');
  const client = createS3Client(config);
  const putLocked = async (key: string, body: Buffer) => {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        // Object Lock puts must carry an integrity header.
        ContentMD5: createHash('md5').update(body).digest('base64'),
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + LOCK_RETENTION_DAYS * 86_400_000),
      }),
    );
  };
  const store = storeOver(blobs, 'compliance', putLocked);
  return {
    ...store,
    async close() {
      client.destroy();
      await store.close();
    },
  };
}

/** The configured checkpoint store: VAULT_CHECKPOINT_DIR (default <data dir>/checkpoints) or VAULT_CHECKPOINT_BUCKET. */
export async function openCheckpointStore(config: Pick<Config, 'checkpoints' | 's3'>): Promise<CheckpointStore> {
  if (config.checkpoints.kind === 'dir')
    return storeOver(await createFilesystemBlobStore(config.checkpoints.dir), 'none');
  if (!config.s3) throw new Error('VAULT_CHECKPOINT_BUCKET needs S3_ENDPOINT and S3_BUCKET');
  return openCheckpointBucket(config.s3, config.checkpoints.bucket);
}
