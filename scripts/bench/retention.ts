/**
 * Retention benchmark (issue 4), on PostgreSQL + S3 (s3rver):
 *  - expiring 10,000 recordings (one small fake object each) through the real
 *    sweeper: recordings and objects deleted per second, next to the ceiling of
 *    S3 DeleteObjects batches of 1,000 on the same server;
 *  - rewrapping 10,000 order keys under a new KEK.
 */

import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { ManualClock } from '../../src/clock.js';
import { mapLimit } from '../../src/concurrency.js';
import { loadConfig } from '../../src/config.js';
import { createOrderKeys } from '../../src/crypto/order-keys.js';
import { getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { moveKekWrappedOrderKeys } from '../../src/domain/order-key-epochs.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { createS3BlobStore, withContentMd5 } from '../../src/store/blobs/s3.js';
import type { Queryable } from '../../src/store/db/database.js';
import { openVault } from '../../src/vault.js';
import { freshPostgresSchema } from '../../test/helpers/postgres.js';
import { startS3Server } from '../../test/helpers/s3.js';
import type { BenchSection } from './types.js';

const N = 10_000;
const DAY = 86_400_000;
const progress = (m: string) => process.stderr.write(`  [retention] ${m}\n`);

async function insertMany(q: Queryable, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    const values = batch
      .map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
      .join(', ');
    await q.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, batch.flat());
  }
}

export async function run(): Promise<BenchSection> {
  const sodium = await getSodium();
  const pg = await freshPostgresSchema();
  const s3 = await startS3Server({ process: 'own' });
  const blobs = await createS3BlobStore({ config: s3.config });
  const keks = (v: number[]) =>
    v.map((n) => `${n}:${toBase64Url(sodium.crypto_generichash(32, `bench-kek-${n}`, null))}`).join(',');
  const clock = new ManualClock(new Date());
  const config = loadConfig({
    VAULT_KEKS: keks([1]),
    VAULT_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'vault-bench-retention-')),
  });
  const deps = await openVault(config, {
    logger: pino({ level: 'silent' }),
    clock,
    stores: { db: pg.db, blobs },
    defaultMetrics: false,
  });
  try {
    progress(`creating ${N} orders, sealed recordings and objects`);
    const now = clock.now();
    await insertMany(
      pg.db,
      'principals',
      ['id', 'name', 'department', 'roles', 'created_at'],
      [['bench-b', 'b', 'field', ['beautician'], now]],
    );
    const orderRows: unknown[][] = [];
    const recordingRows: unknown[][] = [];
    const chunkRows: unknown[][] = [];
    const body = Buffer.alloc(200, 1);
    body[0] = 1;
    const sha = createHash('sha256').update(body).digest('hex');
    for (let i = 0; i < N; i++) {
      const orderId = `o-${i}`;
      const k = createOrderKeys(deps.keyring, orderId);
      orderRows.push([
        orderId,
        'bench-b',
        'c',
        now,
        Buffer.from(k.publicKey),
        Buffer.from(k.wrappedSecretKey),
        k.kekVersion,
        now,
      ]);
      recordingRows.push([`rec-${i}`, orderId, 'sealed', 'audio/ogg', Buffer.alloc(80), now, now, 1, now]);
      chunkRows.push([`rec-${i}`, 0, sha, body.length, body.length - 41, `recordings/rec-${i}/000000-${sha}`, now]);
    }
    await insertMany(
      pg.db,
      'orders',
      [
        'order_id',
        'beautician_id',
        'customer_id',
        'scheduled_at',
        'public_key',
        'wrapped_secret_key',
        'kek_version',
        'created_at',
      ],
      orderRows,
    );
    await insertMany(
      pg.db,
      'recordings',
      [
        'id',
        'order_id',
        'status',
        'mime_type',
        'sealed_content_key',
        'created_at',
        'sealed_at',
        'chunk_count',
        'retain_until',
      ],
      recordingRows,
    );
    await insertMany(
      pg.db,
      'chunks',
      ['recording_id', 'seq', 'sha256', 'size', 'plaintext_size', 'object_key', 'stored_at'],
      chunkRows,
    );
    await mapLimit(
      chunkRows.map((r) => r[5] as string),
      16,
      (key) => blobs.put(key, body),
    );

    // The orders above are stored the way they were before epoch keys (wrapped by the KEK directly).
    progress('moving every order key under its epoch key (the start-up migration)');
    const r0 = performance.now();
    const migrated = await moveKekWrappedOrderKeys(deps, { batchSize: 200 });
    const migrateSeconds = (performance.now() - r0) / 1000;

    progress('sweeping 10,000 expired recordings');
    clock.advance(DAY);
    const s0 = performance.now();
    const report = await runSweep(deps);
    const sweepSeconds = (performance.now() - s0) / 1000;

    progress('ceiling: DeleteObjects of 10,000 objects in batches of 1,000');
    const ceilingKeys = Array.from({ length: N }, (_, i) => `ceiling/${String(i).padStart(5, '0')}`);
    await mapLimit(ceilingKeys, 16, (key) => blobs.put(key, body));
    const client = new S3Client({
      endpoint: s3.config.endpoint,
      region: s3.config.region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const c0 = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const cmd = withContentMd5(
        new DeleteObjectsCommand({
          Bucket: s3.config.bucket,
          Delete: { Objects: ceilingKeys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      await client.send(cmd);
    }
    const ceilingSeconds = (performance.now() - c0) / 1000;
    client.destroy();

    const perSecond = report.objectsDeleted / sweepSeconds;
    const ceilingPerSecond = N / ceilingSeconds;
    return {
      stores: 'postgres+s3 (s3rver)',
      metrics: {
        recordings_expired: { value: report.expired, unit: 'recordings' },
        sweep_seconds: { value: round(sweepSeconds), unit: 's' },
        sweep_objects_deleted_per_s: { value: round(perSecond), unit: 'objects/s' },
        ceiling_delete_objects_per_s: { value: round(ceilingPerSecond), unit: 'objects/s' },
        sweep_vs_ceiling_ratio: { value: round(perSecond / ceilingPerSecond, 3), unit: 'ratio' },
        orders_shredded: { value: report.ordersShredded, unit: 'orders' },
        migrate_order_keys_per_s: { value: round(migrated / migrateSeconds), unit: 'keys/s' },
        migrated: { value: migrated, unit: 'keys' },
      },
      notes: [
        'The sweeper lists and deletes each recording prefix (ListObjectsV2 + DeleteObjects per recording, 1 object each here), inside a batch transaction of 50 that also marks rows, shreds order keys and appends audit entries; the ceiling is bare DeleteObjects of 1,000 keys per call.',
      ],
    };
  } finally {
    await blobs.close();
    await s3.stop();
    await pg.cleanup();
  }
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
