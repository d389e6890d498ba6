import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectJson } from '../../src/client/http.js';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { fakeAudio } from '../helpers/actors.js';
import { freePort } from '../helpers/ports.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { signedDecision } from '../helpers/signing.js';
import { fixedKeks } from '../helpers/vault.js';

const ADMIN = 'vv_sigkill-test-admin-token-0123456789';

/** The vault killed with SIGKILL mid-upload and started again on the same PostgreSQL and data dir. */
describe('SIGKILL mid-upload', () => {
  let dataDir: string;
  let dbUrl: string;
  let dbName: string;
  let port: number;
  let child: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;

  const start = async () => {
    child = spawn('node', ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 150; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('server did not become ready');
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-kill-'));
    dbName = `vault_kill_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    port = await freePort();
    env = {
      ...process.env,
      PORT: String(port),
      VAULT_DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      VAULT_KEKS: await fixedKeks([1]),
      VAULT_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'error',
    };
    await start();
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses nothing acknowledged: the phone resumes, the recording seals and plays byte-exact', async () => {
    const base = `http://127.0.0.1:${port}`;
    const call = async <T>(token: string, method: string, p: string, body: unknown, ...ok: number[]) =>
      expectJson<T>(
        await fetch(`${base}${p}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        ...ok,
      );
    const principal = async (id: string, department: string, roles: string[]) =>
      (await call<{ token: string }>(ADMIN, 'POST', '/v1/principals', { id, name: id, department, roles }, 201)).token;
    const platform = await principal('plat', 'p', ['platform']);
    const beautician = await principal('bea', 'field', ['beautician']);
    const officer = await principal('off', 'disputes', ['dispute_staff']);
    const head = await principal('head', 'disputes', ['department_head']);
    const security = await principal('sec', 'security', ['security_head']);
    const order = await call<{ publicKey: string }>(
      platform,
      'POST',
      '/v1/orders',
      { orderId: 'o1', beauticianId: 'bea', customerId: 'c', scheduledAt: '2026-11-24T10:00:00Z' },
      201,
    );
    for (const party of ['beautician', 'customer'])
      await call(
        platform,
        'POST',
        '/v1/orders/o1/consents',
        { party, decision: 'consent', mode: 'explicit', appVersion: '1' },
        201,
      );

    const audio = fakeAudio(120_000, 11);
    const phone = new PhoneClient({
      baseUrl: base,
      token: beautician,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const upload = await phone.startRecording({
      orderId: 'o1',
      orderPublicKey: order.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 10_000));
    await upload.forgetKey();
    const acknowledged: number[] = [];
    for (const c of chunks.slice(0, 5)) {
      await upload.uploadChunk(c);
      acknowledged.push(c.seq);
    }
    // Chunk 5 is half sent when the process dies.
    const half = new Promise<string>((resolve) => {
      const body = chunks[5]!.bytes;
      const req = http.request(`${base}/v1/recordings/${upload.recordingId}/chunks/5`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${beautician}`,
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
        },
      });
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err) => resolve(`failed: ${err.message}`));
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => child!.kill('SIGKILL'), 200);
    });
    const exited = new Promise((r) => child!.once('exit', r));
    expect(await half).toMatch(/^failed/);
    await exited;

    await start();
    const resumed = new PhoneClient({ baseUrl: base, token: beautician }).resume(upload.recordingId);
    const state = await resumed.uploadState();
    for (const seq of acknowledged) expect(state.storedSeqs).toContain(seq);
    expect(state.storedSeqs).not.toContain(5);
    await resumed.uploadMissing(chunks);
    expect((await resumed.complete(chunks.length)).status).toBe('sealed');

    const filed = await call<{ id: string }>(
      officer,
      'POST',
      '/v1/access-requests',
      { orderId: 'o1', purpose: 'dispute', reason: 'r', ticketRef: 'T' },
      201,
    );
    for (const decider of [head, security])
      await call(
        decider,
        'POST',
        `/v1/access-requests/${filed.id}/decisions`,
        await signedDecision(base, decider, filed.id, 'approve', 'ok'),
        200,
      );
    const played = await fetch(`${base}/v1/access-requests/${filed.id}/recordings/${upload.recordingId}/audio`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(played.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await played.arrayBuffer()), Buffer.from(audio))).toBe(0);
  }, 90_000);
});
