import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { createS3BlobStore } from '../../src/store/blobs/s3.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { freshPostgresSchema, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { startFlakyHttpProxy, startTcpProxy } from '../helpers/proxies.js';
import { approvedRequest, play } from '../helpers/recordings.js';
import { startS3Server } from '../helpers/s3.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

describe('storage that fails most of its requests', () => {
  let vault: TestVault;
  let proxy: Awaited<ReturnType<typeof startFlakyHttpProxy>>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const pg = await freshPostgresSchema();
    const s3 = await startS3Server();
    proxy = await startFlakyHttpProxy(s3.config.endpoint!, { fraction: 0, modes: ['503', 'drop', 'stall'] });
    const blobs = await createS3BlobStore({
      config: { ...s3.config, endpoint: proxy.endpoint },
      requestTimeoutMs: 800,
    });
    cleanup = async () => {
      await blobs.close();
      await proxy.close();
      await s3.stop();
      await pg.cleanup();
    };
    vault = await startTestVault(
      'postgres+s3',
      {},
      { stores: { db: pg.db, blobs, postgresSchema: pg.schema, env: {}, cleanup: async () => undefined } },
    );
  });
  afterAll(async () => {
    await vault?.close();
    await cleanup?.();
  });

  it('never acknowledges what it did not store; the phone retries until every chunk is stored once and sealed', async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(60_000, 5);
    const statuses: number[] = [];
    const watching: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'PUT') {
        statuses.push(res.status);
        if (res.status === 503) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      }
      return res;
    };
    const phone = new PhoneClient({
      baseUrl: vault.baseUrl,
      token: visit.beauticianToken,
      fetch: watching,
      retry: { attempts: 30, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 3_000));
    proxy.setFraction(0.6);
    await upload.uploadMissing(chunks, 3);
    proxy.setFraction(0);
    expect(proxy.failures()).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect((await upload.complete(chunks.length)).status).toBe('sealed');

    // Exactly once: one row and one object per seq, and the bytes are the ones sent.
    const rows = await vault.deps.db.query<{ seq: number; object_key: string }>(
      'SELECT seq, object_key FROM chunks WHERE recording_id = $1 ORDER BY seq',
      [upload.recordingId],
    );
    expect(rows.map((r) => r.seq)).toEqual(chunks.map((c) => c.seq));
    const objects = await vault.deps.blobs.list(`recordings/${upload.recordingId}/`);
    expect(objects.sort()).toEqual(rows.map((r) => r.object_key).sort());
    const grant = await approvedRequest(vault, visit.orderId);
    const played = await play(vault, grant, upload.recordingId);
    expect(Buffer.compare(played.body, Buffer.from(audio))).toBe(0);
  }, 60_000);
});

describe('database down', () => {
  let vault: TestVault;
  let dbProxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const pg = await freshPostgresSchema();
    const target = new URL(TEST_DATABASE_URL);
    dbProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.port = String(dbProxy.port);
    const db = openPostgres({ connectionString: viaProxy.toString(), schema: pg.schema });
    const s3 = await startS3Server();
    const blobs = await createS3BlobStore({ config: s3.config });
    cleanup = async () => {
      await db.close();
      await blobs.close();
      await dbProxy.close().catch(() => undefined);
      await s3.stop();
      await pg.cleanup();
    };
    vault = await startTestVault(
      'postgres+s3',
      {},
      { stores: { db, blobs, postgresSchema: pg.schema, env: {}, cleanup: async () => undefined } },
    );
  });
  afterAll(async () => {
    await vault?.close();
    await cleanup?.();
  });

  it('answers 503 with Retry-After on every database route, says so in /readyz, and recovers without a restart', async () => {
    const visit = await newVisit(vault);
    await dbProxy.cut();

    const calls = [
      () =>
        request(vault.server).post('/v1/orders').set(bearer(visit.platformToken)).send({
          orderId: 'o-down',
          beauticianId: visit.beauticianId,
          customerId: 'c',
          scheduledAt: '2026-11-24T10:00:00Z',
        }),
      () => request(vault.server).get(`/v1/orders/${visit.orderId}/recordings`).set(bearer(vault.adminToken)),
      () => request(vault.server).get('/v1/audit').set(bearer(vault.adminToken)),
      () =>
        request(vault.server)
          .post(`/v1/orders/${visit.orderId}/consents`)
          .set(bearer(visit.platformToken))
          .send({ party: 'customer', decision: 'consent', mode: 'explicit', appVersion: '1' }),
      () => request(vault.server).get('/v1/access-requests').set(bearer(vault.adminToken)),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.body.error.code).toBe('unavailable');
    }
    const ready = await request(vault.server).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ database: 'unavailable', storage: 'ok', epochKeys: 'ok' });
    // The same checks as a gauge, for alerting (docs/alerts.yml, VaultNotReady).
    const metrics = (await request(vault.server).get('/metrics')).text;
    expect(metrics).toMatch(/^vault_ready\{check="database"\} 0$/m);
    expect(metrics).toMatch(/^vault_ready\{check="storage"\} 1$/m);

    await dbProxy.restore();
    let recovered = 0;
    for (let i = 0; i < 50 && recovered !== 200; i++) {
      recovered = (await request(vault.server).get('/readyz')).status;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(200);
    const after = await request(vault.server)
      .get(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(vault.adminToken));
    expect(after.status).toBe(403); // the admin is authenticated again: only the role says no
  }, 60_000);
});
