import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { generateSigningKey } from '../../src/crypto/decision-signature.js';
import { ROUTES } from '../../src/http/openapi.js';
import { errorResponse } from '../../src/http/response-schemas.js';
import { bearer, fakeAudio, newVisit } from '../helpers/actors.js';
import { signedDecision, signerFor } from '../helpers/signing.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * The document must tell integrators the truth: every answer of a walk through
 * the API has a documented status, and its JSON body matches the documented
 * schema exactly (strict: an undocumented field fails), refusals the Error schema.
 */
describe('answers match /openapi.json', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  let checked = 0;
  function documented(res: Response, method: string, pattern: string): Response {
    const route = ROUTES.find((r) => r.method === method.toLowerCase() && r.path === pattern);
    if (!route) throw new Error(`${method} ${pattern} is not in ROUTES`);
    const where = `${method} ${pattern} answered ${res.status}`;
    expect(Object.keys(route.responses), `${where}: status not documented`).toContain(String(res.status));
    // Refusals without their own answer schema are documented as the shared Error body.
    const schema = route.answers?.[res.status] ?? (res.status >= 400 ? errorResponse : undefined);
    if (schema) {
      const parsed = schema.safeParse(res.body);
      expect(
        parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
        `${where}: body differs from the documented schema`,
      ).toEqual([]);
    }
    checked++;
    return res;
  }

  it('holds for a whole visit, its refusals and its sign-offs', async () => {
    const api = request(vault.server);
    documented(await api.get('/healthz'), 'GET', '/healthz');
    documented(await api.get('/readyz'), 'GET', '/readyz');

    const created = documented(
      await api
        .post('/v1/principals')
        .set(bearer(vault.adminToken))
        .send({ id: 'doc-temp', name: 'Temp', department: 'ops', roles: ['auditor'] }),
      'POST',
      '/v1/principals',
    );
    expect(created.status).toBe(201);
    documented(
      await api
        .post('/v1/principals')
        .set(bearer(vault.adminToken))
        .send({ id: 'doc-temp', name: 'Temp', department: 'ops', roles: ['auditor'] }),
      'POST',
      '/v1/principals',
    );
    documented(
      await api.delete('/v1/principals/doc-temp').set(bearer(vault.adminToken)),
      'DELETE',
      '/v1/principals/:id',
    );
    documented(
      await api.delete('/v1/principals/doc-nobody').set(bearer(vault.adminToken)),
      'DELETE',
      '/v1/principals/:id',
    );

    const visit = await newVisit(vault, { consents: false });
    documented(
      await api.post('/v1/orders').set(bearer(visit.platformToken)).send({
        orderId: visit.orderId,
        beauticianId: visit.beauticianId,
        customerId: 'c',
        scheduledAt: '2026-11-24T10:00:00Z',
      }),
      'POST',
      '/v1/orders',
    );
    documented(
      await api
        .post(`/v1/orders/${visit.orderId}/recordings`)
        .set(bearer(visit.beauticianToken))
        .send({ sealedContentKey: 'AAAA', mimeType: 'audio/ogg' }),
      'POST',
      '/v1/orders/:orderId/recordings',
    );
    for (const party of ['beautician', 'customer']) {
      documented(
        await api
          .post(`/v1/orders/${visit.orderId}/consents`)
          .set(bearer(visit.platformToken))
          .send({ party, decision: 'consent', mode: 'explicit', appVersion: '1.0' }),
        'POST',
        '/v1/orders/:orderId/consents',
      );
    }

    const upload = await new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken }).startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(fakeAudio(3000, 5), 1000));
    await upload.forgetKey();
    const put = (seq: number, body: Uint8Array) =>
      api
        .put(`/v1/recordings/${upload.recordingId}/chunks/${seq}`)
        .set(bearer(visit.beauticianToken))
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from(body));
    const chunkRoute = '/v1/recordings/:recordingId/chunks/:seq';
    expect(documented(await put(0, chunks[0]!.bytes), 'PUT', chunkRoute).status).toBe(201);
    expect(documented(await put(0, chunks[0]!.bytes), 'PUT', chunkRoute).status).toBe(200);
    expect(documented(await put(0, chunks[1]!.bytes), 'PUT', chunkRoute).status).toBe(409);
    documented(
      await api.get(`/v1/recordings/${upload.recordingId}/upload-state`).set(bearer(visit.beauticianToken)),
      'GET',
      '/v1/recordings/:recordingId/upload-state',
    );
    const completeRoute = '/v1/recordings/:recordingId/complete';
    expect(
      documented(
        await api
          .post(`/v1/recordings/${upload.recordingId}/complete`)
          .set(bearer(visit.beauticianToken))
          .send({ chunkCount: 3 }),
        'POST',
        completeRoute,
      ).status,
    ).toBe(409);
    for (const c of chunks.slice(1)) await put(c.seq, c.bytes);
    expect(
      documented(
        await api
          .post(`/v1/recordings/${upload.recordingId}/complete`)
          .set(bearer(visit.beauticianToken))
          .send({ chunkCount: 3 }),
        'POST',
        completeRoute,
      ).status,
    ).toBe(200);

    const hold = documented(
      await api
        .post(`/v1/orders/${visit.orderId}/holds`)
        .set(bearer(visit.platformToken))
        .send({ reason: 'complaint', note: 'call centre' }),
      'POST',
      '/v1/orders/:orderId/holds',
    );
    const officer = await vault.addPrincipal({ id: 'doc-officer', roles: ['dispute_staff'], department: 'disputes' });
    const head = await vault.addPrincipal({ id: 'doc-head', roles: ['department_head'], department: 'disputes' });
    const security = await vault.addPrincipal({ id: 'doc-security', roles: ['security_head'], department: 'security' });
    const auditor = await vault.addPrincipal({ id: 'doc-auditor', roles: ['auditor'], department: 'audit' });
    documented(
      await api.get(`/v1/orders/${visit.orderId}/recordings`).set(bearer(auditor)),
      'GET',
      '/v1/orders/:orderId/recordings',
    );
    documented(
      await api.delete(`/v1/holds/${hold.body.id as string}`).set(bearer(visit.platformToken)),
      'DELETE',
      '/v1/holds/:holdId',
    );
    documented(
      await api.delete(`/v1/holds/${hold.body.id as string}`).set(bearer(visit.platformToken)),
      'DELETE',
      '/v1/holds/:holdId',
    );

    const filed = documented(
      await api
        .post('/v1/access-requests')
        .set(bearer(officer))
        .send({ orderId: visit.orderId, purpose: 'dispute', reason: 'complaint', ticketRef: 'T-1' }),
      'POST',
      '/v1/access-requests',
    );
    const id = filed.body.id as string;
    documented(await api.get('/v1/access-requests').set(bearer(officer)), 'GET', '/v1/access-requests');
    documented(await api.get(`/v1/access-requests/${id}`).set(bearer(head)), 'GET', '/v1/access-requests/:id');
    documented(await api.get('/v1/access-requests/req_nope').set(bearer(head)), 'GET', '/v1/access-requests/:id');
    const decide = async (token: string) =>
      api
        .post(`/v1/access-requests/${id}/decisions`)
        .set(bearer(token))
        .send(await signedDecision(vault.baseUrl, token, id, 'approve', 'ok'));
    documented(await decide(officer), 'POST', '/v1/access-requests/:id/decisions');
    await signerFor(vault.baseUrl, head);
    const unsigned = documented(
      await api
        .post(`/v1/access-requests/${id}/decisions`)
        .set(bearer(head))
        .send({ decision: 'approve', comment: 'ok' }),
      'POST',
      '/v1/access-requests/:id/decisions',
    );
    expect(unsigned.body.error.code).toBe('signature_required');
    const me = documented(await api.get('/v1/me').set(bearer(head)), 'GET', '/v1/me');
    expect(me.body.signingKeyId).toEqual(expect.any(String));
    documented(await api.get('/v1/me').set(bearer(officer)), 'GET', '/v1/me');
    const otherKey = await generateSigningKey();
    documented(
      await api.put('/v1/me/signing-key').set(bearer(head)).send({ publicKey: otherKey.publicKey }),
      'PUT',
      '/v1/me/signing-key',
    );
    documented(
      await api
        .put('/v1/me/signing-key')
        .set(bearer(head))
        .send({ publicKey: (await signerFor(vault.baseUrl, head)).publicKey }),
      'PUT',
      '/v1/me/signing-key',
    );
    documented(await decide(head), 'POST', '/v1/access-requests/:id/decisions');
    documented(await decide(head), 'POST', '/v1/access-requests/:id/decisions');
    const approved = documented(await decide(security), 'POST', '/v1/access-requests/:id/decisions');
    expect(approved.body.status).toBe('approved');
    for (const status of [200, 409]) {
      const cleared = documented(
        await api.delete('/v1/principals/doc-head/signing-key').set(bearer(vault.adminToken)),
        'DELETE',
        '/v1/principals/:id/signing-key',
      );
      expect(cleared.status).toBe(status);
    }

    const audio = documented(
      await api
        .get(`/v1/access-requests/${id}/recordings/${upload.recordingId}/audio`)
        .set(bearer(officer))
        .set('range', 'bytes=0-9')
        .buffer(true),
      'GET',
      '/v1/access-requests/:id/recordings/:recordingId/audio',
    );
    expect(audio.status).toBe(206);
    documented(
      await api
        .get(`/v1/access-requests/${id}/recordings/${upload.recordingId}/audio`)
        .set(bearer(officer))
        .set('range', 'bytes=9999-'),
      'GET',
      '/v1/access-requests/:id/recordings/:recordingId/audio',
    );

    documented(await api.get('/v1/audit?limit=2').set(bearer(auditor)), 'GET', '/v1/audit');
    documented(await api.get('/v1/audit').set(bearer('vv_not-a-token-000000000000000000')), 'GET', '/v1/audit');
    documented(await api.get('/v1/audit').set(bearer(officer)), 'GET', '/v1/audit');
    documented(await api.get('/v1/audit/verify').set(bearer(auditor)), 'GET', '/v1/audit/verify');
    expect(checked).toBeGreaterThanOrEqual(34);
  });
});
