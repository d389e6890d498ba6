import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/store/blobs/s3.js';
import {
  bucketVersioning,
  EpochKeyStoreError,
  openEpochKeyBucket,
  openEpochKeyDir,
} from '../../src/store/epoch-key-store.js';
import { startS3Server } from '../helpers/s3.js';
import { describeEpochKeyStoreContract } from './epoch-key-store.contract.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describeEpochKeyStoreContract('directory', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'epoch-keys-'));
  const dir = path.join(tmp, 'epoch-keys');
  return {
    store: await openEpochKeyDir(dir),
    rawNames: () => filesUnder(dir),
    reopen: () => openEpochKeyDir(dir),
    cleanup: () => rm(tmp, { recursive: true, force: true }),
  };
});

describeEpochKeyStoreContract('bucket (s3rver)', async () => {
  const s3 = await startS3Server();
  const bucket = `${s3.config.bucket}-epoch-keys`;
  const store = await openEpochKeyBucket(s3.config, bucket);
  const client = createS3Client({ ...s3.config, bucket });
  return {
    store,
    async rawNames() {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (res.Contents ?? []).map((o) => o.Key ?? '');
    },
    reopen: () => openEpochKeyBucket(s3.config, bucket),
    async cleanup() {
      client.destroy();
      await store.close();
      await s3.stop();
    },
  };
});

describe('epoch key directory specifics', () => {
  it('keeps the directory 0700 and each key file 0600', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'epoch-keys-'));
    try {
      const dir = path.join(tmp, 'keys');
      const store = await openEpochKeyDir(dir);
      await store.put({ epoch: '2026-01-01T00:00:00.000Z', kekVersion: 1, wrappedKey: new Uint8Array(72) });
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const [file] = await filesUnder(dir);
      expect(file).toBe(path.join('epochs', '2026-01-01T000000.000Z'));
      expect((await stat(path.join(dir, file!))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a key file that names another epoch than its own', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'epoch-keys-'));
    try {
      const store = await openEpochKeyDir(tmp);
      await store.put({ epoch: '2026-01-01T00:00:00.000Z', kekVersion: 1, wrappedKey: new Uint8Array(72) });
      const swapped = path.join(tmp, 'epochs', '2026-01-02T000000.000Z');
      await writeFile(swapped, await readFile(path.join(tmp, 'epochs', '2026-01-01T000000.000Z')));
      await expect(store.get('2026-01-02T00:00:00.000Z')).rejects.toThrow(/names another epoch/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('epoch key bucket specifics', () => {
  it('finds no versioning on s3rver (it implements none)', async () => {
    const s3 = await startS3Server();
    try {
      expect(await bucketVersioning(s3.config)).toBe('off');
    } finally {
      await s3.stop();
    }
  });

  it.each(['Enabled', 'Suspended'])('refuses a bucket whose versioning is %s', async (status) => {
    // An S3 endpoint that says the bucket exists and keeps versions (s3rver cannot be told to).
    const server = http.createServer((req, res) => {
      if (req.url?.includes('versioning')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${status}</Status></VersioningConfiguration>`,
        );
        return;
      }
      res.writeHead(200);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = {
        endpoint,
        bucket: 'b',
        region: 'us-east-1',
        forcePathStyle: true,
        accessKeyId: 'a',
        secretAccessKey: 'b',
      };
      await expect(openEpochKeyBucket(config, 'versioned-keys')).rejects.toThrow(EpochKeyStoreError);
      await expect(openEpochKeyBucket(config, 'versioned-keys')).rejects.toThrow(
        new RegExp(`versioning ${status.toLowerCase()}`),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
