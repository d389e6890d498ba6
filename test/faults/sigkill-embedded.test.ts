import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectJson } from '../../src/client/http.js';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { CLUSTER_DIR, PASSWORD_FILE } from '../../src/store/db/embedded/cluster.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { fakeAudio } from '../helpers/actors.js';
import { embeddedDataDir, isRunning, postmasterPid, stopLeftoverCluster, waitFor } from '../helpers/embedded.js';
import { embeddedEnv, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { signedDecision } from '../helpers/signing.js';
import { fixedKeks } from '../helpers/vault.js';

const ADMIN = 'vv_sigkill-embedded-admin-token-0123456789';

/**
 * The default setup (no DATABASE_URL) is durable: the vault and its embedded
 * PostgreSQL are killed with SIGKILL right after a chunk's 201, and on restart
 * (PostgreSQL's crash recovery) the chunk's object, row and audit entry are
 * there and the recording plays byte-exact.
 */
describe('SIGKILL of the vault and its embedded PostgreSQL after a 201', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir = await embeddedDataDir('vault-kill-embedded-');
    env = embeddedEnv({
      VAULT_DATA_DIR: dataDir,
      VAULT_KEKS: await fixedKeks([1]),
      VAULT_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    });
    server = await startServerProcess(env);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await stopLeftoverCluster(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the acknowledged chunk: object, row, audit entry, and byte-exact playback', async () => {
    const first = server!;
    const base = first.baseUrl;
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

    const audio = fakeAudio(50_000, 5);
    const upload = await new PhoneClient({ baseUrl: base, token: beautician }).startRecording({
      orderId: 'o1',
      orderPublicKey: order.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 10_000));
    await upload.forgetKey();
    const last = chunks.at(-1)!;
    for (const c of chunks.slice(0, -1)) await upload.uploadChunk(c);

    // The last chunk's 201, then both processes die at once, before anything could be flushed on the way out.
    const postgresPid = await postmasterPid(dataDir);
    expect(postgresPid).toBeDefined();
    const acknowledged = await fetch(`${base}/v1/recordings/${upload.recordingId}/chunks/${last.seq}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${beautician}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from(last.bytes),
    });
    expect(acknowledged.status).toBe(201);
    first.child.kill('SIGKILL');
    // The postmaster leads a process group of its own: the group signal takes its backends with it.
    process.kill(-postgresPid!, 'SIGKILL');
    await first.exited;
    await waitFor('the killed PostgreSQL to be gone', () => !isRunning(postgresPid!));
    expect(await postmasterPid(dataDir)).toBe(postgresPid); // a stale lock file: PostgreSQL must recover

    server = await startServerProcess(env);
    expect(server.lines.join('\n')).toMatch(/database system was interrupted|was not properly shut down/);

    // The row, the audit entry and the object, read straight from the recovered cluster and the data dir.
    const lock = (await readFile(path.join(dataDir, CLUSTER_DIR, 'postmaster.pid'), 'utf8')).split('\n');
    const db = openPostgres({
      address: {
        host: '127.0.0.1',
        port: Number(lock[3]),
        user: 'vault',
        password: (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim(),
        database: 'postgres',
      },
    });
    try {
      const [row] = await db.query<{ object_key: string; sha256: string }>(
        'SELECT object_key, sha256 FROM chunks WHERE recording_id = $1 AND seq = $2',
        [upload.recordingId, last.seq],
      );
      expect(row?.sha256).toBe(createHash('sha256').update(last.bytes).digest('hex'));
      const audited = await db.query(
        `SELECT 1 FROM audit_log WHERE action = 'chunk.stored' AND recording_id = $1 AND (details->>'seq')::int = $2`,
        [upload.recordingId, last.seq],
      );
      expect(audited).toHaveLength(1);
      const object = await readFile(path.join(dataDir, 'objects', row!.object_key));
      expect(Buffer.compare(object, Buffer.from(last.bytes))).toBe(0);
    } finally {
      await db.close();
    }

    // And the whole recording seals and plays byte-exact through the restarted server.
    const base2 = server.baseUrl;
    const resumed = new PhoneClient({ baseUrl: base2, token: beautician }).resume(upload.recordingId);
    expect((await resumed.uploadState()).storedSeqs).toEqual(chunks.map((c) => c.seq));
    expect((await resumed.complete(chunks.length)).status).toBe('sealed');
    const call2 = async <T>(token: string, method: string, p: string, body: unknown, ...ok: number[]) =>
      expectJson<T>(
        await fetch(`${base2}${p}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
        ...ok,
      );
    const filed = await call2<{ id: string }>(
      officer,
      'POST',
      '/v1/access-requests',
      { orderId: 'o1', purpose: 'dispute', reason: 'r', ticketRef: 'T' },
      201,
    );
    for (const decider of [head, security])
      await call2(
        decider,
        'POST',
        `/v1/access-requests/${filed.id}/decisions`,
        await signedDecision(base2, decider, filed.id, 'approve', 'ok'),
        200,
      );
    const played = await fetch(`${base2}/v1/access-requests/${filed.id}/recordings/${upload.recordingId}/audio`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(played.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await played.arrayBuffer()), Buffer.from(audio))).toBe(0);

    // Nothing but JSON lines on the server's stdout and stderr, PostgreSQL's own output included.
    for (const line of [...first.lines, ...server.lines]) expect(() => JSON.parse(line)).not.toThrow();
    expect(await server.stop()).toBe(0);
  }, 240_000);
});
