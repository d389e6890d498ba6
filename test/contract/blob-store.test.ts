import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFilesystemBlobStore } from '../../src/store/blobs/filesystem.js';
import { createS3BlobStore } from '../../src/store/blobs/s3.js';
import { startS3Server } from '../helpers/s3.js';
import { describeBlobStoreContract } from './blob-store.contract.js';

describeBlobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'blobs-'));
  return {
    store: await createFilesystemBlobStore(path.join(dir, 'objects')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeBlobStoreContract('s3 (s3rver)', async () => {
  const s3 = await startS3Server();
  const store = await createS3BlobStore({ config: s3.config });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await s3.stop();
    },
  };
});

describe('filesystem store specifics', () => {
  it('writes nothing outside its root and leaves no temp files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'blobs-'));
    try {
      const store = await createFilesystemBlobStore(path.join(dir, 'objects'));
      await expect(store.put('../escape', Buffer.from('x'))).rejects.toThrow();
      await store.put('a/b', Buffer.from('x'));
      expect(await readdir(dir)).toEqual(['objects']);
      expect(await readdir(path.join(dir, 'objects', 'a'))).toEqual(['b']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('s3 store specifics', () => {
  it('turns an unreachable endpoint into a 503-kind error', async () => {
    const store = await createS3BlobStore({
      config: {
        endpoint: 'http://127.0.0.1:1',
        bucket: 'b',
        region: 'us-east-1',
        forcePathStyle: true,
        accessKeyId: 'a',
        secretAccessKey: 'b',
      },
    });
    await expect(store.put('k', Buffer.from('x'))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable' });
    await store.close();
  });
});
