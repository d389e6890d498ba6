import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { getSodium } from '../../src/crypto/sodium.js';
import { embeddedDataDir, stopLeftoverCluster } from '../helpers/embedded.js';
import { embeddedEnv, startServerProcess } from '../helpers/server-process.js';
import { signedDecision } from '../helpers/signing.js';
import { fixedKeks } from '../helpers/vault.js';

const ADMIN = 'vv_shutdown-test-admin-token-0123456789';

/** SIGTERM: stop accepting, let the in-flight upload and audio stream finish, close the stores, exit 0. */
describe('graceful shutdown of the real server process', () => {
  let dataDir: string;
  let child: ChildProcess;
  let base: string;
  const exit = () => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  beforeAll(async () => {
    dataDir = await embeddedDataDir('vault-shutdown-');
    const server = await startServerProcess(
      embeddedEnv({
        VAULT_DATA_DIR: dataDir,
        VAULT_KEKS: await fixedKeks([1]),
        VAULT_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
        LOG_LEVEL: 'warn',
      }),
    );
    child = server.child;
    base = server.baseUrl;
  }, 180_000);
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await stopLeftoverCluster(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, p: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('serves default process metrics and the API description', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(metrics).toMatch(/^nodejs_heap_size_total_bytes \d/m);
    expect(metrics).toMatch(/^# TYPE vault_chunk_upload_seconds histogram/m);
    expect(((await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('finishes a half-sent chunk upload and a half-read audio stream after SIGTERM, then exits 0', async () => {
    const principal = async (id: string, roles: string[], department = 'ops') =>
      (await api('POST', '/v1/principals', ADMIN, { id, name: id, department, roles })).body.token as string;
    const platform = await principal('plat', ['platform']);
    const beautician = await principal('beaut', ['beautician']);
    const officer = await principal('officer', ['dispute_staff'], 'disputes');
    const head = await principal('head', ['department_head'], 'disputes');
    const security = await principal('security', ['security_head'], 'security');
    const order = await api('POST', '/v1/orders', platform, {
      orderId: 'o1',
      beauticianId: 'beaut',
      customerId: 'c1',
      scheduledAt: '2026-11-24T10:00:00Z',
    });
    for (const party of ['beautician', 'customer'])
      await api('POST', '/v1/orders/o1/consents', platform, {
        party,
        decision: 'consent',
        mode: 'explicit',
        appVersion: '1',
      });
    const phone = new PhoneClient({ baseUrl: base, token: beautician });

    // A sealed, approved recording large enough that a paused reader holds its stream open.
    const audio = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < audio.length; i++) audio[i] = (i * 31 + (i >> 9)) & 0xff;
    const played = await phone.startRecording({
      orderId: 'o1',
      orderPublicKey: order.body.publicKey as string,
      mimeType: 'audio/wav',
    });
    const playedChunks = played.encrypt(splitIntoChunks(audio, 512 * 1024));
    await played.uploadMissing(playedChunks);
    await played.complete(playedChunks.length);
    const filed = await api('POST', '/v1/access-requests', officer, {
      orderId: 'o1',
      purpose: 'dispute',
      reason: 'complaint',
      ticketRef: 'T-1',
    });
    for (const token of [head, security])
      expect(
        (
          await api(
            'POST',
            `/v1/access-requests/${filed.body.id as string}/decisions`,
            token,
            await signedDecision(base, token, filed.body.id as string, 'approve', 'ok'),
          )
        ).status,
      ).toBe(200);

    const upload = await phone.startRecording({
      orderId: 'o1',
      orderPublicKey: order.body.publicKey as string,
      mimeType: 'audio/ogg',
    });
    const sodium = await getSodium();
    const chunk = Buffer.from(
      encryptChunk({
        contentKey: sodium.randombytes_buf(32),
        recordingId: upload.recordingId,
        seq: 0,
        final: true,
        plaintext: new Uint8Array(200_000),
      }),
    );

    // The stream: read its first bytes, then stop reading until after SIGTERM.
    const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          `${base}/v1/access-requests/${filed.body.id as string}/recordings/${played.recordingId}/audio`,
          { headers: { authorization: `Bearer ${officer}` } },
          resolve,
        )
        .on('error', reject);
    });
    expect(stream.statusCode).toBe(200);
    const received: Buffer[] = [];
    const streamed = new Promise<Buffer>((resolve, reject) => {
      stream.on('data', (d: Buffer) => {
        received.push(d);
        if (received.length === 1) stream.pause();
      });
      stream.on('end', () => resolve(Buffer.concat(received)));
      stream.on('error', reject);
      stream.on('aborted', () =>
        reject(
          new Error(
            `the audio stream was cut after ${received.reduce((n, b) => n + b.length, 0)} bytes at ${new Date().toISOString()}`,
          ),
        ),
      );
    });
    await new Promise((r) => setTimeout(r, 200));

    const exited = exit();
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/v1/recordings/${upload.recordingId}/chunks/0`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${beautician}`,
          'content-type': 'application/octet-stream',
          'content-length': String(chunk.length),
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(chunk.subarray(0, 100_000));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(chunk.subarray(100_000)), 500);
      }, 300);
    });

    const res = await answer;
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'stored', seq: 0 });
    // The paused audio stream alone still keeps the server up; once read, it ends whole.
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    stream.resume();
    expect(Buffer.compare(await streamed, audio)).toBe(0);
    expect(await exited).toBe(0);
    // Stopped accepting: nothing answers any more.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 60_000);
});
