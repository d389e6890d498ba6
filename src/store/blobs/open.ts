import path from 'node:path';
import type { Config } from '../../config.js';
import type { BlobStore } from './blob-store.js';
import { createFilesystemBlobStore } from './filesystem.js';
import { createS3BlobStore } from './s3.js';

/** S3 when configured, else the embedded filesystem store in the data dir. */
export function openBlobStore(config: Pick<Config, 's3' | 'dataDir'>): Promise<BlobStore> {
  return config.s3
    ? createS3BlobStore({ config: config.s3, createBucket: true })
    : createFilesystemBlobStore(path.join(config.dataDir, 'objects'));
}
