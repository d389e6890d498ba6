import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { generateSigningKey } from '../../src/crypto/decision-signature.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { bearer, consent, registerOrder } from '../helpers/actors.js';
import { uploadSealed } from '../helpers/recordings.js';
import { servedRoutes } from '../helpers/routes.js';
import { signedDecision, signerFor } from '../helpers/signing.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';
import { ACTORS, type Actor, expectedStatus, MATRIX } from './authz-matrix.data.js';

interface Call {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  json?: object;
  binary?: Buffer;
}

describe('authorization matrix (every route × every actor, through HTTP)', () => {
  let vault: TestVault;
  const token: Partial<Record<Actor, string>> = {};
  let ownOrder: { orderId: string; publicKey: string };
  let sealedRecording: string;
  let approvedRequest: string;
  let n = 0;

  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
    token.admin = vault.adminToken;
    const add = async (actor: Actor, roles: Parameters<TestVault['addPrincipal']>[0]['roles'], department: string) => {
      token[actor] = await vault.addPrincipal({ id: `m-${actor}`, roles, department });
    };
    await add('platform', ['platform'], 'platform');
    await add('beauticianOwn', ['beautician'], 'field');
    await add('beauticianOther', ['beautician'], 'field');
    await add('staffOwn', ['dispute_staff'], 'disputes');
    await add('staffOther', ['dispute_staff'], 'claims');
    await add('deptHeadSame', ['department_head'], 'disputes');
    await add('deptHeadOther', ['department_head'], 'claims');
    await add('securityHead', ['security_head'], 'security');
    await add('auditor', ['auditor'], 'audit');
    ownOrder = await registerOrder(vault, token.platform!, 'm-beauticianOwn');
    await registerOrder(vault, token.platform!, 'm-beauticianOther');
    for (const party of ['beautician', 'customer'] as const)
      await consent(vault, token.platform!, ownOrder.orderId, party);
    const visit = {
      platformToken: token.platform!,
      beauticianToken: token.beauticianOwn!,
      beauticianId: 'm-beauticianOwn',
      ...ownOrder,
    };
    sealedRecording = await uploadSealed(vault, visit);
    approvedRequest = await fileRequest();
    for (const decider of ['deptHeadSame', 'securityHead'] as const) {
      await request(vault.server)
        .post(`/v1/access-requests/${approvedRequest}/decisions`)
        .set(bearer(token[decider]!))
        .send(await signedDecision(vault.baseUrl, token[decider]!, approvedRequest, 'approve', 'ok'));
    }
  });
  afterAll(async () => vault?.close());

  async function fileRequest(): Promise<string> {
    const res = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(token.staffOwn!))
      .send({ orderId: ownOrder.orderId, purpose: 'dispute', reason: 'r', ticketRef: 'T' });
    return res.body.id as string;
  }

  async function openRecording(): Promise<{ recordingId: string; chunk: (seq: number) => Buffer }> {
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const sealed = toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(ownOrder.publicKey)!));
    const res = await request(vault.server)
      .post(`/v1/orders/${ownOrder.orderId}/recordings`)
      .set(bearer(token.beauticianOwn!))
      .send({ sealedContentKey: sealed, mimeType: 'audio/ogg' });
    const recordingId = res.body.recordingId as string;
    return {
      recordingId,
      chunk: (seq) =>
        Buffer.from(encryptChunk({ contentKey, recordingId, seq, final: true, plaintext: new Uint8Array(10) })),
    };
  }

  // The log's routes answer once a first checkpoint is signed; one is enough.
  let signed: Promise<void> | undefined;
  const signedOnce = () => {
    signed ??= vault.deps.sequenceNow();
    return signed;
  };

  /** A request for each route, with fresh resources where a success would change state. */
  async function callFor(route: string, actor: Actor): Promise<Call> {
    const id = ++n;
    const sealedKey = async () => {
      const sodium = await getSodium();
      return toBase64Url(sodium.crypto_box_seal(sodium.randombytes_buf(32), fromBase64Url(ownOrder.publicKey)!));
    };
    switch (route) {
      case 'GET /healthz':
      case 'GET /readyz':
      case 'GET /metrics':
      case 'GET /openapi.json':
      case 'GET /console':
      case 'GET /console/app.js':
      case 'GET /console/styles.css':
      case 'GET /console/sw.js':
      case 'GET /favicon.ico':
      case 'GET /v1/access-requests':
      case 'GET /v1/audit':
      case 'GET /v1/audit/verify':
      case 'GET /v1/audit/log-key':
        return { method: 'get', path: route.split(' ')[1]! };
      case 'GET /v1/audit/checkpoint':
        await signedOnce();
        return { method: 'get', path: '/v1/audit/checkpoint' };
      case 'GET /v1/audit/entries/:index/inclusion':
        await signedOnce();
        return { method: 'get', path: '/v1/audit/entries/0/inclusion?treeSize=1' };
      case 'GET /v1/orders/:orderId/evidence':
        return { method: 'get', path: `/v1/orders/${ownOrder.orderId}/evidence` };
      case 'GET /v1/audit/consistency':
        await signedOnce();
        return { method: 'get', path: '/v1/audit/consistency?from=0&to=1' };
      case 'POST /v1/principals':
        return {
          method: 'post',
          path: '/v1/principals',
          json: { id: `new-${id}`, name: 'n', department: 'd', roles: ['auditor'] },
        };
      case 'DELETE /v1/principals/:id':
        await vault.addPrincipal({ id: `victim-${id}`, roles: ['auditor'] });
        return { method: 'delete', path: `/v1/principals/victim-${id}` };
      case 'POST /v1/orders':
        return {
          method: 'post',
          path: '/v1/orders',
          json: {
            orderId: `mo-${id}`,
            beauticianId: 'm-beauticianOwn',
            customerId: 'c',
            scheduledAt: '2026-11-24T10:00:00Z',
          },
        };
      case 'POST /v1/orders/:orderId/consents':
        return {
          method: 'post',
          path: `/v1/orders/${ownOrder.orderId}/consents`,
          // The beautician's own party: the customer's consent is the platform's alone (consent.test.ts).
          json: { party: 'beautician', decision: 'consent', mode: 'explicit', appVersion: '1' },
        };
      case 'POST /v1/orders/:orderId/recordings':
        return {
          method: 'post',
          path: `/v1/orders/${ownOrder.orderId}/recordings`,
          json: { sealedContentKey: await sealedKey(), mimeType: 'audio/ogg' },
        };
      case 'GET /v1/orders/:orderId/recordings':
        return { method: 'get', path: `/v1/orders/${ownOrder.orderId}/recordings` };
      case 'POST /v1/orders/:orderId/holds':
        return { method: 'post', path: `/v1/orders/${ownOrder.orderId}/holds`, json: { reason: 'complaint' } };
      case 'DELETE /v1/holds/:holdId': {
        const hold = await request(vault.server)
          .post(`/v1/orders/${ownOrder.orderId}/holds`)
          .set(bearer(token.platform!))
          .send({ reason: 'complaint' });
        return { method: 'delete', path: `/v1/holds/${hold.body.id}` };
      }
      case 'PUT /v1/recordings/:recordingId/chunks/:seq': {
        const rec = await openRecording();
        return { method: 'put', path: `/v1/recordings/${rec.recordingId}/chunks/0`, binary: rec.chunk(0) };
      }
      case 'GET /v1/recordings/:recordingId/upload-state':
        return { method: 'get', path: `/v1/recordings/${(await openRecording()).recordingId}/upload-state` };
      case 'POST /v1/recordings/:recordingId/complete': {
        const rec = await openRecording();
        await request(vault.server)
          .put(`/v1/recordings/${rec.recordingId}/chunks/0`)
          .set(bearer(token.beauticianOwn!))
          .set('content-type', 'application/octet-stream')
          .send(rec.chunk(0));
        return { method: 'post', path: `/v1/recordings/${rec.recordingId}/complete`, json: { chunkCount: 1 } };
      }
      case 'POST /v1/access-requests':
        return {
          method: 'post',
          path: '/v1/access-requests',
          json: { orderId: ownOrder.orderId, purpose: 'safety', reason: 'r', ticketRef: `T-${id}` },
        };
      case 'GET /v1/access-requests/:id':
        return { method: 'get', path: `/v1/access-requests/${approvedRequest}` };
      case 'POST /v1/access-requests/:id/decisions': {
        const requestId = await fileRequest();
        return {
          method: 'post',
          path: `/v1/access-requests/${requestId}/decisions`,
          json:
            actor === 'none'
              ? { decision: 'approve', comment: 'fine' }
              : await signedDecision(vault.baseUrl, token[actor]!, requestId, 'approve', 'fine'),
        };
      }
      case 'POST /v1/access-requests/:id/revoke': {
        const requestId = await fileRequest();
        for (const decider of ['deptHeadSame', 'securityHead'] as const)
          await request(vault.server)
            .post(`/v1/access-requests/${requestId}/decisions`)
            .set(bearer(token[decider]!))
            .send(await signedDecision(vault.baseUrl, token[decider]!, requestId, 'approve', 'ok'));
        return { method: 'post', path: `/v1/access-requests/${requestId}/revoke`, json: { reason: 'ticket closed' } };
      }
      case 'POST /v1/webhooks':
        return { method: 'post', path: '/v1/webhooks', json: { url: 'https://8.8.8.8/hook', events: ['hold.placed'] } };
      case 'GET /v1/webhooks':
        return { method: 'get', path: '/v1/webhooks' };
      case 'DELETE /v1/webhooks/:id':
      case 'GET /v1/webhooks/:id/deliveries': {
        const made = await request(vault.server)
          .post('/v1/webhooks')
          .set(bearer(vault.adminToken))
          .send({ url: 'https://8.8.8.8/hook', events: ['hold.placed'] });
        const path = `/v1/webhooks/${made.body.id}`;
        return route.startsWith('DELETE') ? { method: 'delete', path } : { method: 'get', path: `${path}/deliveries` };
      }
      case 'GET /v1/me':
        return { method: 'get', path: '/v1/me' };
      case 'PUT /v1/me/signing-key': {
        // The key the actor signs with (registered by its first call): a head's PUT of it again answers 200.
        const publicKey =
          actor === 'none'
            ? (await generateSigningKey()).publicKey
            : (await signerFor(vault.baseUrl, token[actor]!)).publicKey;
        return { method: 'put', path: '/v1/me/signing-key', json: { publicKey } };
      }
      case 'DELETE /v1/principals/:id/signing-key': {
        const victim = await vault.addPrincipal({ id: `keyed-${id}`, roles: ['security_head'] });
        await signerFor(vault.baseUrl, victim);
        return { method: 'delete', path: `/v1/principals/keyed-${id}/signing-key` };
      }
      case 'GET /v1/access-requests/:id/recordings/:recordingId/audio':
        return { method: 'get', path: `/v1/access-requests/${approvedRequest}/recordings/${sealedRecording}/audio` };
      default:
        throw new Error(`no request built for ${route}: add a case here and a row in authz-matrix.data.ts`);
    }
  }

  it('has a row for every route the app serves', () => {
    const app = createApp({ ...vault.deps, logger: pino({ level: 'silent' }) });
    const rows = new Set(MATRIX.map((r) => r.route));
    expect(
      servedRoutes(app).filter((r) => !rows.has(r)),
      'routes without authorization rows',
    ).toEqual([]);
    expect(
      [...rows].filter((r) => !servedRoutes(app).includes(r)),
      'rows for routes that do not exist',
    ).toEqual([]);
  });

  // ~30 routes × 11 actors through HTTP, each with fresh resources: longer than the default test timeout.
  it('answers every route × actor as the table says', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const row of MATRIX) {
      for (const actor of ACTORS) {
        const call = await callFor(row.route, actor);
        let req = request(vault.server)[call.method](call.path);
        if (actor !== 'none') req = req.set(bearer(token[actor]!));
        if (call.binary) req = req.set('content-type', 'application/octet-stream').send(call.binary);
        else if (call.json) req = req.send(call.json);
        const res = await req;
        const want = expectedStatus(row, actor);
        checked++;
        if (res.status !== want)
          mismatches.push(
            `${row.route} as ${actor}: got ${res.status}, want ${want} ${JSON.stringify(res.body?.error ?? '')}`,
          );
        if (res.status === 403) expect(res.body.error.code).toEqual(expect.any(String));
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(MATRIX.length * ACTORS.length);
  }, 120_000);
});
