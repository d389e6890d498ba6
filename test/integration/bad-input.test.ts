import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { bearer, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/** Every malformed request gets a 4xx with the SPEC error shape naming the field; nothing stored changes. */
describe('bad input', () => {
  let vault: TestVault;
  let visit: Visit;
  let recordingId: string;
  let chunk0: Uint8Array;

  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_MAX_CHUNK_BYTES: '65536' });
    visit = await newVisit(vault);
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const sealed = toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(visit.publicKey)!));
    const res = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({ sealedContentKey: sealed, mimeType: 'audio/ogg' });
    recordingId = res.body.recordingId;
    chunk0 = encryptChunk({ contentKey, recordingId, seq: 0, final: false, plaintext: fakeAudio(2000) });
    expect((await putChunk(0, chunk0)).status).toBe(201);
  });
  afterAll(async () => vault?.close());

  const putChunk = (seq: number | string, body: Uint8Array | string, type = 'application/octet-stream') =>
    request(vault.server)
      .put(`/v1/recordings/${recordingId}/chunks/${seq}`)
      .set(bearer(visit.beauticianToken))
      .set('content-type', type)
      .send(typeof body === 'string' ? body : Buffer.from(body));

  const postJson = (path: string, token: string, body: string, type = 'application/json') =>
    request(vault.server).post(path).set(bearer(token)).set('content-type', type).send(body);

  async function snapshot() {
    const tables = ['principals', 'tokens', 'orders', 'consents', 'recordings', 'chunks'];
    const rows: Record<string, unknown> = {};
    for (const t of tables) rows[t] = await vault.deps.db.query(`SELECT * FROM ${t} ORDER BY 1`);
    const keys = await vault.deps.blobs.list('recordings/');
    const bodies = await Promise.all(keys.map((k) => vault.deps.blobs.get(k)));
    return JSON.stringify({ rows, keys, bodies: bodies.map((b) => b?.toString('base64')) });
  }

  const expectError = (res: request.Response, status: number, field?: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
    if (field) expect(res.body.error.field).toBe(field);
  };

  const order = () => ({
    orderId: 'o-bad-1',
    beauticianId: visit.beauticianId,
    customerId: 'c1',
    scheduledAt: '2026-11-24T10:00:00Z',
  });
  const long = 'a'.repeat(10_000);

  const jsonCases: [string, () => Promise<request.Response>, number, string?][] = [
    ['malformed JSON', () => postJson('/v1/orders', visit.platformToken, '{"orderId": '), 400, 'body'],
    ['a JSON array', () => postJson('/v1/orders', visit.platformToken, '[1,2]'), 400],
    ['a JSON string', () => postJson('/v1/orders', visit.platformToken, '"x"'), 400],
    [
      'orderId a number',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: 42 })),
      400,
      'orderId',
    ],
    [
      'unknown field',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), admin: true })),
      400,
      'admin',
    ],
    [
      'empty orderId',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: '' })),
      400,
      'orderId',
    ],
    [
      '10 kB orderId',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: long })),
      400,
      'orderId',
    ],
    [
      'orderId with /',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: 'a/b' })),
      400,
      'orderId',
    ],
    [
      'orderId with ..',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: 'a..b' })),
      400,
      'orderId',
    ],
    [
      'orderId with NUL',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: 'a\u0000b' })),
      400,
      'orderId',
    ],
    [
      'unicode orderId',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), orderId: 'zakázka-1' })),
      400,
      'orderId',
    ],
    [
      'scheduledAt not a time',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), scheduledAt: 'tomorrow' })),
      400,
      'scheduledAt',
    ],
    [
      'missing customerId',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), customerId: undefined })),
      400,
      'customerId',
    ],
    [
      'JSON sent as text/plain',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify(order()), 'text/plain'),
      415,
      'content-type',
    ],
    [
      'body over 16 kB',
      () => postJson('/v1/orders', visit.platformToken, JSON.stringify({ ...order(), customerId: 'x'.repeat(20_000) })),
      413,
    ],
    [
      'unknown role',
      () =>
        postJson(
          '/v1/principals',
          vault.adminToken,
          JSON.stringify({ id: 'p-bad', name: 'n', department: 'd', roles: ['root'] }),
        ),
      400,
      'roles.0',
    ],
    [
      'empty roles',
      () =>
        postJson(
          '/v1/principals',
          vault.adminToken,
          JSON.stringify({ id: 'p-bad', name: 'n', department: 'd', roles: [] }),
        ),
      400,
      'roles',
    ],
    [
      'consent party unknown',
      () =>
        postJson(
          `/v1/orders/${visit.orderId}/consents`,
          visit.platformToken,
          JSON.stringify({ party: 'dog', decision: 'consent', mode: 'explicit', appVersion: '1' }),
        ),
      400,
      'party',
    ],
    [
      'consent for unknown order',
      () =>
        postJson(
          '/v1/orders/no-such-order/consents',
          visit.platformToken,
          JSON.stringify({ party: 'customer', decision: 'consent', mode: 'explicit', appVersion: '1' }),
        ),
      404,
    ],
    [
      'sealed key too short',
      () =>
        postJson(
          `/v1/orders/${visit.orderId}/recordings`,
          visit.beauticianToken,
          JSON.stringify({ sealedContentKey: 'AAAA', mimeType: 'audio/ogg' }),
        ),
      400,
      'sealedContentKey',
    ],
    [
      'sealed key with padding',
      () =>
        postJson(
          `/v1/orders/${visit.orderId}/recordings`,
          visit.beauticianToken,
          JSON.stringify({ sealedContentKey: `${'A'.repeat(107)}=`, mimeType: 'audio/ogg' }),
        ),
      400,
      'sealedContentKey',
    ],
    [
      'mime type not audio',
      () =>
        postJson(
          `/v1/orders/${visit.orderId}/recordings`,
          visit.beauticianToken,
          JSON.stringify({ sealedContentKey: 'A'.repeat(107), mimeType: 'text/html' }),
        ),
      400,
      'mimeType',
    ],
    [
      'chunkCount zero',
      () =>
        postJson(`/v1/recordings/${recordingId}/complete`, visit.beauticianToken, JSON.stringify({ chunkCount: 0 })),
      400,
      'chunkCount',
    ],
    [
      'chunkCount a string',
      () =>
        postJson(`/v1/recordings/${recordingId}/complete`, visit.beauticianToken, JSON.stringify({ chunkCount: '3' })),
      400,
      'chunkCount',
    ],
    [
      'chunkCount fractional',
      () =>
        postJson(`/v1/recordings/${recordingId}/complete`, visit.beauticianToken, JSON.stringify({ chunkCount: 1.5 })),
      400,
      'chunkCount',
    ],
    [
      'complete unknown recording',
      () => postJson('/v1/recordings/rec_nope/complete', visit.beauticianToken, JSON.stringify({ chunkCount: 1 })),
      404,
    ],
  ];

  const chunkCases: [string, () => Promise<request.Response>, number, string?][] = [
    ['negative seq', () => putChunk(-1, chunk0), 400, 'seq'],
    ['huge seq', () => putChunk('99999999999', chunk0), 400, 'seq'],
    ['seq with leading zero', () => putChunk('01', chunk0), 400, 'seq'],
    ['seq in exponent form', () => putChunk('1e3', chunk0), 400, 'seq'],
    ['seq not a number', () => putChunk('abc', chunk0), 400, 'seq'],
    ['chunk as JSON', () => putChunk(1, '{"a":1}', 'application/json'), 415, 'content-type'],
    ['chunk as text', () => putChunk(1, 'hello', 'text/plain'), 415, 'content-type'],
    ['empty chunk', () => putChunk(1, new Uint8Array(0)), 400, 'body'],
    ['wrong version byte', () => putChunk(1, Uint8Array.from([2, ...chunk0.subarray(1)])), 400, 'body'],
    ['chunk shorter than header and tag', () => putChunk(1, chunk0.subarray(0, 40)), 400, 'body'],
    ['chunk over the limit', () => putChunk(1, new Uint8Array(65_537).fill(1)), 413],
    [
      'recording id with ..',
      () =>
        request(vault.server)
          .put('/v1/recordings/a..b/chunks/1')
          .set(bearer(visit.beauticianToken))
          .set('content-type', 'application/octet-stream')
          .send(Buffer.from(chunk0)),
      400,
      'recordingId',
    ],
    [
      'recording id with encoded /',
      () => request(vault.server).get('/v1/recordings/a%2Fb/upload-state').set(bearer(visit.beauticianToken)),
      400,
      'recordingId',
    ],
    [
      'recording id with NUL',
      () => request(vault.server).get('/v1/recordings/a%00b/upload-state').set(bearer(visit.beauticianToken)),
      400,
      'recordingId',
    ],
    [
      '10 kB recording id',
      () => request(vault.server).get(`/v1/recordings/${long}/upload-state`).set(bearer(visit.beauticianToken)),
      400,
      'recordingId',
    ],
    [
      'path traversal',
      () => request(vault.server).get('/v1/recordings/../../etc/passwd').set(bearer(visit.beauticianToken)),
      404,
    ],
    [
      'audit limit not a number',
      () => request(vault.server).get('/v1/audit?limit=abc').set(bearer(vault.adminToken)),
      403,
    ],
  ];

  it.each([...jsonCases, ...chunkCases])('%s → 4xx', async (_name, send, status, field) => {
    const before = await snapshot();
    const res = await send();
    expectError(res, status, field);
    expect(await snapshot()).toBe(before);
  });

  it('rejects bad audit queries from an auditor', async () => {
    const auditor = await vault.addPrincipal({ id: 'aud-bad', roles: ['auditor'] });
    for (const [qs, field] of [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['after=-1', 'after'],
      ['orderId=a/b', 'orderId'],
      ['bogus=1', 'bogus'],
    ] as const) {
      expectError(await request(vault.server).get(`/v1/audit?${qs}`).set(bearer(auditor)), 400, field);
    }
  });

  it('still holds the first chunk untouched', async () => {
    const keys = await vault.deps.blobs.list(`recordings/${recordingId}/`);
    expect(keys).toHaveLength(1);
    expect(Buffer.compare((await vault.deps.blobs.get(keys[0]!))!, Buffer.from(chunk0))).toBe(0);
  });
});
