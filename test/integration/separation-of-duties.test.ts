import { PassThrough } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptChunk } from '../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import { bearer, consent, newVisit } from '../helpers/actors.js';
import { auditEntries } from '../helpers/audit-entries.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const principalBody = (id: string, roles: string[]) => ({ id, name: id, department: 'ops', roles });

/**
 * SPEC "Who uses it", separation of duties: platform, beautician and admin
 * are each held alone; ids beginning with system: are the vault's own; only
 * the platform records the customer's consent; the bootstrap admin retires
 * once another admin has signed in.
 */
describe.each(STORE_PAIRS)('separation of duties on %s', (pair) => {
  let vault: TestVault;
  const tag = pair.replace('+', '-');
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  const createPrincipal = (token: string, body: object) =>
    request(vault.server).post('/v1/principals').set(bearer(token)).send(body);

  it('refuses platform, beautician or admin combined with any other role (400 role_conflict)', async () => {
    const combos = [
      ['platform', 'beautician'],
      ['beautician', 'dispute_staff'],
      ['admin', 'auditor'],
      ['platform', 'security_head'],
      ['admin', 'platform'],
    ];
    for (const [i, roles] of combos.entries()) {
      const res = await createPrincipal(vault.adminToken, principalBody(`combo-${tag}-${i}`, roles));
      expect(res.status, roles.join('+')).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'role_conflict', field: 'roles' });
    }
    // Staff roles combine freely; each sole role alone is fine.
    expect(
      (await createPrincipal(vault.adminToken, principalBody(`staff-${tag}`, ['dispute_staff', 'auditor']))).status,
    ).toBe(201);
    expect((await createPrincipal(vault.adminToken, principalBody(`solo-${tag}`, ['beautician']))).status).toBe(201);
  });

  it("a platform+beautician row from before the rule plants no chunk in another beautician's order, and start-up names it", async () => {
    const visit = await newVisit(vault);
    // Written past the API, as an old database would hold it.
    const token = await vault.addPrincipal({ id: `legacy-${tag}`, roles: ['beautician'] });
    await vault.deps.db.query(`UPDATE principals SET roles = ARRAY['platform', 'beautician'] WHERE id = $1`, [
      `legacy-${tag}`,
    ]);
    const sodium = await getSodium();
    const contentKey = sodium.randombytes_buf(32);
    const sealed = toBase64Url(sodium.crypto_box_seal(contentKey, fromBase64Url(visit.publicKey)!));
    const started = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(token))
      .send({ sealedContentKey: sealed, mimeType: 'audio/ogg' });
    expect(started.status).toBe(403);
    expect(started.body.error.code).toBe('not_your_order');

    // The real beautician's recording takes no chunk from it either.
    const own = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({ sealedContentKey: sealed, mimeType: 'audio/ogg' });
    expect(own.status).toBe(201);
    const chunk = encryptChunk({
      contentKey,
      recordingId: own.body.recordingId,
      seq: 0,
      final: true,
      plaintext: new Uint8Array(16),
    });
    const planted = await request(vault.server)
      .put(`/v1/recordings/${own.body.recordingId}/chunks/0`)
      .set(bearer(token))
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from(chunk));
    expect(planted.status).toBe(403);
    expect(await vault.deps.blobs.list(`recordings/${own.body.recordingId}/`)).toEqual([]);

    // A second server starting on these stores warns, naming the principal and its roles, never a token.
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => lines.push(...d.toString('utf8').split('\n').filter(Boolean)));
    const second = await startTestVault(pair, {}, { stores: vault.stores, logStream: stream });
    try {
      const warned = lines.filter((l) => l.includes('separation of duties'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({
        level: 40,
        principals: expect.arrayContaining([{ id: `legacy-${tag}`, roles: ['platform', 'beautician'] }]),
      });
      expect(warned[0]).not.toContain(token);
    } finally {
      await second.close();
    }
  });

  it('refuses ids in the system: namespace (400 reserved_id)', async () => {
    for (const id of ['system:sweeper', 'system:epoch-keys', `SYSTEM:x-${tag}`]) {
      const res = await createPrincipal(vault.adminToken, principalBody(id, ['auditor']));
      expect(res.status, id).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'reserved_id', field: 'id' });
    }
    const rows = await vault.deps.db.query(`SELECT id FROM principals WHERE lower(id) LIKE 'system:%'`);
    expect(rows).toEqual([]);
  });

  it("only the platform records the customer's consent; a beautician only its own party, on its own orders", async () => {
    const visit = await newVisit(vault, { consents: false });
    const other = await newVisit(vault, { consents: false });
    const customerByBeautician = await consent(vault, visit.beauticianToken, visit.orderId, 'customer');
    expect(customerByBeautician.status).toBe(403);
    expect(customerByBeautician.body.error.code).toBe('not_your_party');
    const onOtherOrder = await consent(vault, visit.beauticianToken, other.orderId, 'beautician');
    expect(onOtherOrder.status).toBe(403);
    expect((await consent(vault, visit.beauticianToken, visit.orderId, 'beautician')).status).toBe(201);
    // The gate is still shut: the customer's consent is missing, and the beautician could not supply it.
    const sodium = await getSodium();
    const sealed = toBase64Url(sodium.crypto_box_seal(sodium.randombytes_buf(32), fromBase64Url(visit.publicKey)!));
    const start = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({ sealedContentKey: sealed, mimeType: 'audio/ogg' });
    expect(start.status).toBe(409);
    expect(start.body.error.code).toBe('consent_required');
    expect((await consent(vault, visit.platformToken, visit.orderId, 'customer')).status).toBe(201);
    const consents = await vault.deps.db.query<{ party: string; recorded_by: string }>(
      'SELECT party, recorded_by FROM consents WHERE order_id = $1 ORDER BY party',
      [visit.orderId],
    );
    expect(consents).toEqual([
      { party: 'beautician', recorded_by: visit.beauticianId },
      { party: 'customer', recorded_by: expect.stringMatching(/^platform-/) },
    ]);
  });
});

describe('the bootstrap admin retires once another admin has signed in (postgres+fs)', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('keeps working while the new admin has not signed in, then stops, audited once', async () => {
    const auditor = await vault.addPrincipal({ id: 'boot-auditor', roles: ['auditor'] });
    const second = await vault.addPrincipal({ id: 'second-admin', roles: ['admin'] });
    // Another admin exists but has not signed in: the bootstrap token still works.
    await vault.addPrincipal({ id: 'boot-still-works', roles: ['auditor'] });

    const signedIn = await request(vault.server)
      .post('/v1/principals')
      .set(bearer(second))
      .send(principalBody('made-by-second', ['auditor']));
    expect(signedIn.status).toBe(201);
    const refused = await request(vault.server)
      .post('/v1/principals')
      .set(bearer(vault.adminToken))
      .send(principalBody('made-by-bootstrap', ['auditor']));
    expect(refused.status).toBe(401);
    // The second admin signing in again retires nothing more.
    expect(
      (
        await request(vault.server)
          .post('/v1/principals')
          .set(bearer(second))
          .send(principalBody('again', ['auditor']))
      ).status,
    ).toBe(201);

    const [row] = await vault.deps.db.query<{ revoked: boolean }>(
      `SELECT revoked_at IS NOT NULL AS revoked FROM principals WHERE id = 'bootstrap-admin'`,
    );
    expect(row?.revoked).toBe(true);
    const retired = (await auditEntries(vault, auditor)).filter(
      (e) =>
        e.action === 'principal.revoked' && (e.details as { principalId?: string }).principalId === 'bootstrap-admin',
    );
    expect(retired).toHaveLength(1);
    expect(retired[0]).toMatchObject({
      actorId: 'system:principals',
      details: { principalId: 'bootstrap-admin', adminId: 'second-admin' },
    });
    expect(JSON.stringify(retired[0])).not.toContain(vault.adminToken);
  });
});
