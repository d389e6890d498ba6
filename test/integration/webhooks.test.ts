import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue, retryDelayMs } from '../../src/domain/webhooks.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { signedDecision } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';
import { receiver } from '../helpers/webhook-receiver.js';

/** SPEC "Notifications", through HTTP with a real receiver verifying with standardwebhooks. */
describe.each(STORE_PAIRS)('webhooks on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair, { VAULT_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => vault?.close());

  const register = (body: object, token = vault.adminToken) =>
    request(vault.server).post('/v1/webhooks').set(bearer(token)).send(body);
  /** Runs delivery passes (the worker's own function) until nothing is due now. */
  const drain = async () => {
    while ((await deliverDue(vault.deps)) > 0);
  };

  it('delivers signed events that verify with standardwebhooks, and no secret, token or reason', async () => {
    const hook = await receiver();
    try {
      const made = await register({
        url: hook.url,
        events: ['access_request.filed', 'access_request.decided', 'grant.ended', 'principal.signing_key_set'],
      });
      expect(made.status).toBe(201);
      expect(made.body.secret).toMatch(/^whsec_/);
      const listed = await request(vault.server).get('/v1/webhooks').set(bearer(vault.adminToken));
      expect(JSON.stringify(listed.body)).not.toContain(made.body.secret);

      const { orderId } = await newVisit(vault);
      const staff = await vault.addPrincipal({ id: `w-staff-${tag}`, roles: ['dispute_staff'], department: 'd' });
      const dh = await vault.addPrincipal({ id: `w-dh-${tag}`, roles: ['department_head'], department: 'd' });
      const sh = await vault.addPrincipal({ id: `w-sh-${tag}`, roles: ['security_head'], department: 's' });
      const filed = await request(vault.server)
        .post('/v1/access-requests')
        .set(bearer(staff))
        .send({ orderId, purpose: 'dispute', reason: 'SECRET-REASON-TEXT', ticketRef: 'T-1' });
      const id = filed.body.id as string;
      for (const token of [dh, sh])
        await request(vault.server)
          .post(`/v1/access-requests/${id}/decisions`)
          .set(bearer(token))
          .send(await signedDecision(vault.baseUrl, token, id, 'approve', 'ok'));
      await request(vault.server).post(`/v1/access-requests/${id}/revoke`).set(bearer(sh)).send({ reason: 'done' });
      await drain();

      const wh = new Webhook(made.body.secret as string);
      const events = hook.got.map((g) => {
        const verified = wh.verify(g.body, {
          'webhook-id': String(g.headers['webhook-id']),
          'webhook-timestamp': String(g.headers['webhook-timestamp']),
          'webhook-signature': String(g.headers['webhook-signature']),
        }) as { type: string; data: Record<string, unknown> };
        return verified;
      });
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === 'principal.signing_key_set')).toHaveLength(2);
      expect(types.filter((t) => t.startsWith('access_request.') || t === 'grant.ended').sort()).toEqual([
        'access_request.decided',
        'access_request.decided',
        'access_request.filed',
        'grant.ended',
      ]);
      const filedEvent = events.find((e) => e.type === 'access_request.filed');
      expect(filedEvent?.data).toMatchObject({ requestId: id, purpose: 'dispute', status: 'pending' });
      expect(filedEvent?.data.signers).toEqual(
        expect.arrayContaining([
          { principalId: `w-dh-${tag}`, roles: ['department_head'] },
          { principalId: `w-sh-${tag}`, roles: ['security_head'] },
        ]),
      );
      const everything = hook.got.map((g) => g.body).join('\n');
      for (const secret of ['SECRET-REASON-TEXT', staff, dh, sh, made.body.secret as string])
        expect(everything).not.toContain(secret);
      // A forged body does not verify.
      const first = hook.got[0]!;
      expect(() =>
        wh.verify(first.body.replace('"type"', '"typ"'), {
          'webhook-id': String(first.headers['webhook-id']),
          'webhook-timestamp': String(first.headers['webhook-timestamp']),
          'webhook-signature': String(first.headers['webhook-signature']),
        }),
      ).toThrow();
    } finally {
      await hook.close();
    }
  });

  it('retries with backoff after the receiver fails, each attempt listed; the same webhook-id each time', async () => {
    const hook = await receiver([500, 500]);
    try {
      const made = await register({ url: hook.url, events: ['principal.signing_key_set'] });
      const head = await vault.addPrincipal({ id: `w-retry-${tag}`, roles: ['security_head'] });
      await signedDecision(vault.baseUrl, head, 'req_none', 'approve').catch(() => undefined);
      await drain();
      expect(hook.got).toHaveLength(1);
      vault.clock.advance(retryDelayMs(1) - 1);
      await drain();
      expect(hook.got).toHaveLength(1);
      vault.clock.advance(1);
      await drain();
      expect(hook.got).toHaveLength(2);
      vault.clock.advance(retryDelayMs(2));
      await drain();
      expect(hook.got).toHaveLength(3);
      vault.clock.advance(retryDelayMs(3));
      await drain();
      expect(hook.got).toHaveLength(3);
      expect(new Set(hook.got.map((g) => g.headers['webhook-id'])).size).toBe(1);
      const deliveries = await request(vault.server)
        .get(`/v1/webhooks/${made.body.id}/deliveries`)
        .set(bearer(vault.adminToken));
      expect(deliveries.status).toBe(200);
      expect(deliveries.body.deliveries[0]).toMatchObject({
        status: 'delivered',
        eventType: 'principal.signing_key_set',
        attempts: [{ statusCode: 500 }, { statusCode: 500 }, { statusCode: 204 }],
      });
      expect(
        (await request(vault.server).delete(`/v1/webhooks/${made.body.id}`).set(bearer(vault.adminToken))).status,
      ).toBe(200);
    } finally {
      await hook.close();
    }
  });

  it('is for admins only, and checks its input', async () => {
    const head = await vault.addPrincipal({ id: `w-not-admin-${tag}`, roles: ['security_head'] });
    expect((await register({ url: 'https://example.com/h', events: ['hold.placed'] }, head)).status).toBe(403);
    for (const [body, field] of [
      [{ url: 'https://example.com/h', events: [] }, 'events'],
      [{ url: 'https://example.com/h', events: ['nope'] }, 'events'],
      [{ url: 'https://example.com/h', events: ['hold.placed'], secret: 'plain' }, 'secret'],
      [{ url: 'not a url', events: ['hold.placed'] }, 'url'],
    ] as const) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field).toMatch(new RegExp(`^${field}`));
    }
  });
});

describe('webhook endpoints without VAULT_WEBHOOK_ALLOW_PRIVATE', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('refuses http, loopback, private, link-local and names that resolve to them (SSRF)', async () => {
    for (const url of [
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://localhost/hook',
      'https://user:pw@example.com/hook',
      'https://[::ffff:127.0.0.1]/hook',
    ]) {
      const res = await request(vault.server)
        .post('/v1/webhooks')
        .set(bearer(vault.adminToken))
        .send({ url, events: ['hold.placed'] });
      expect(res.status, url).toBe(400);
      expect(res.body.error.field, url).toBe('url');
    }
    const open = await request(vault.server)
      .post('/v1/webhooks')
      .set(bearer(vault.adminToken))
      .send({ url: 'https://8.8.8.8/hook', events: ['hold.placed'] });
    expect(open.status).toBe(201);
  });
});
