import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { approvedRequest, play } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/** A whole visit with every log line captured: no token, KEK, sealed key or audio byte may appear. */
describe('log lines carry no secret', () => {
  let vault: TestVault;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new PassThrough();
    let buffered = '';
    stream.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.length > 0));
    });
    vault = await startTestVault('postgres+fs', {}, { logStream: stream });
  });
  afterAll(async () => vault?.close());

  it('logs one JSON line per request with its request id, and nothing secret', async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(24_000, 99);
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 8_000));
    await upload.forgetKey();
    await upload.uploadMissing(chunks);
    await upload.complete(chunks.length);
    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, upload.recordingId)).status).toBe(200);
    // A refusal and a bad token, so error paths log too.
    expect(
      (await request(vault.server).get('/v1/audit').set(bearer('vv_not-a-real-token-0000000000000000'))).status,
    ).toBe(401);
    const echoed = await request(vault.server).get('/healthz').set('x-request-id', 'trace-abc-123');
    expect(echoed.headers['x-request-id']).toBe('trace-abc-123');
    const generated = await request(vault.server).get('/healthz').set('x-request-id', 'bad id with spaces');
    expect(generated.headers['x-request-id']).toMatch(/^trace_[0-9a-f]{32}$/);

    // A store failing mid-request: its error line must carry the request id too.
    const objects = path.join(vault.config.dataDir, 'objects');
    await rm(objects, { recursive: true, force: true });
    await writeFile(objects, 'not a directory');
    const late = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const broken = await request(vault.server)
      .put(`/v1/recordings/${late.recordingId}/chunks/0`)
      .set(bearer(visit.beauticianToken))
      .set('x-request-id', 'trace-broken-store')
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from(late.encrypt([audio.subarray(0, 500)])[0]!.bytes));
    expect(broken.status).toBe(500);

    await new Promise((r) => setTimeout(r, 50));
    expect(lines.length).toBeGreaterThan(10);
    const parsed = lines.map(
      (l) =>
        JSON.parse(l) as {
          req?: { id?: string };
          res?: { statusCode?: number };
          level: number;
          msg?: string;
          responseTime?: number;
        },
    );
    // Every line is about one request and names it; every answered request is one line with status and timing.
    expect(parsed.filter((p) => typeof p.req?.id !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(p.req.id))).toEqual(
      [],
    );
    const answered = parsed.filter((p) => p.res?.statusCode !== undefined);
    expect(answered.length).toBeGreaterThan(10);
    expect(answered.filter((p) => typeof p.responseTime !== 'number')).toEqual([]);
    expect(new Set(answered.map((p) => p.req!.id)).size).toBe(answered.length);
    expect(lines.some((l) => l.includes('trace-abc-123'))).toBe(true);
    const brokenLines = parsed.filter((p) => p.req?.id === 'trace-broken-store');
    expect(brokenLines.map((p) => p.level).sort()).toEqual([50, 50]);
    expect(brokenLines.some((p) => p.msg === 'unhandled error')).toBe(true);

    const [order] = await vault.deps.db.query<{ wrapped_secret_key: Uint8Array }>(
      'SELECT wrapped_secret_key FROM orders WHERE order_id = $1',
      [visit.orderId],
    );
    const [rec] = await vault.deps.db.query<{ sealed_content_key: Uint8Array }>(
      'SELECT sealed_content_key FROM recordings WHERE id = $1',
      [upload.recordingId],
    );
    const [epoch] = await vault.deps.db.query<{ epoch_id: string }>('SELECT epoch_id FROM orders WHERE order_id = $1', [
      visit.orderId,
    ]);
    const epochKey = (await vault.deps.epochKeys.open(epoch!.epoch_id))!;
    const storedEpochKey = (await vault.deps.epochKeys.store.get(epoch!.epoch_id))!;
    const secrets: [string, string][] = [
      ['epoch key b64', Buffer.from(epochKey).toString('base64').slice(0, 24)],
      ['epoch key b64url', Buffer.from(epochKey).toString('base64url').slice(0, 24)],
      ['epoch key hex', Buffer.from(epochKey).toString('hex').slice(0, 32)],
      ['wrapped epoch key b64url', Buffer.from(storedEpochKey.wrappedKey).toString('base64url').slice(0, 24)],
      ['admin token', vault.adminToken],
      ['beautician token', visit.beauticianToken],
      ['staff token', grant.staffToken],
      ['KEK', vault.config.keks!.split(':')[1]!],
      ['wrapped key b64', Buffer.from(order!.wrapped_secret_key).toString('base64').slice(0, 24)],
      ['sealed key b64url', Buffer.from(rec!.sealed_content_key).toString('base64url').slice(0, 24)],
      ['sealed key hex', Buffer.from(rec!.sealed_content_key).toString('hex').slice(0, 32)],
      ['audio b64', Buffer.from(audio.subarray(1000, 1032)).toString('base64')],
      ['audio hex', Buffer.from(audio.subarray(1000, 1032)).toString('hex')],
      ['ciphertext b64', Buffer.from(chunks[1]!.bytes.subarray(40, 72)).toString('base64')],
      ['ciphertext hex', Buffer.from(chunks[1]!.bytes.subarray(40, 72)).toString('hex')],
    ];
    for (const [what, secret] of secrets) {
      expect(
        lines.filter((l) => l.includes(secret)),
        what,
      ).toEqual([]);
    }
    expect(lines.filter((l) => /authorization|bearer/i.test(l))).toEqual([]);
  });
});
