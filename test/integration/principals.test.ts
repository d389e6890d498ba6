import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/domain/tokens.js';
import { bearer } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

describe('principals and tokens', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('lets the bootstrap admin issue a token once, stored only as its hash', async () => {
    const res = await request(vault.server)
      .post('/v1/principals')
      .set(bearer(vault.adminToken))
      .send({ id: 'officer-1', name: 'Olga Officer', department: 'disputes', roles: ['dispute_staff'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'officer-1', roles: ['dispute_staff'] });
    const token = res.body.token as string;
    expect(token).toMatch(/^vv_[A-Za-z0-9_-]{43}$/);
    const rows = await vault.deps.db.query<{ token_hash: string }>(
      `SELECT token_hash FROM tokens WHERE principal_id = 'officer-1'`,
    );
    expect(rows).toEqual([{ token_hash: hashToken(token) }]);
    const dump =
      JSON.stringify(await vault.deps.db.query('SELECT * FROM tokens')) +
      JSON.stringify(await vault.deps.db.query('SELECT * FROM audit_log'));
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(vault.adminToken);
  });

  it('rejects a second principal with the same id, and non-admins', async () => {
    const body = { id: 'dup-1', name: 'D', department: 'x', roles: ['auditor'] };
    expect((await request(vault.server).post('/v1/principals').set(bearer(vault.adminToken)).send(body)).status).toBe(
      201,
    );
    expect((await request(vault.server).post('/v1/principals').set(bearer(vault.adminToken)).send(body)).status).toBe(
      409,
    );
    const auditor = await vault.addPrincipal({ id: 'aud-1', roles: ['auditor'] });
    const res = await request(vault.server)
      .post('/v1/principals')
      .set(bearer(auditor))
      .send({ ...body, id: 'dup-2' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('wrong_role');
  });

  it('stops a revoked principal’s token at once', async () => {
    const token = await vault.addPrincipal({ id: 'plat-rev', roles: ['platform'] });
    const probe = () => request(vault.server).get('/v1/orders/none/recordings').set(bearer(token));
    expect((await probe()).status).toBe(403); // authenticated, wrong role
    const del = await request(vault.server).delete('/v1/principals/plat-rev').set(bearer(vault.adminToken));
    expect(del.status).toBe(200);
    const after = await probe();
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    expect((await request(vault.server).delete('/v1/principals/plat-rev').set(bearer(vault.adminToken))).status).toBe(
      409,
    );
    expect(
      (await request(vault.server).delete('/v1/principals/nobody-here').set(bearer(vault.adminToken))).status,
    ).toBe(404);
    expect(
      (await request(vault.server).delete('/v1/principals/bootstrap-admin').set(bearer(vault.adminToken))).status,
    ).toBe(409);
  });

  it('answers 401 without a token or with a bad one, and audits the refusal', async () => {
    for (const header of [undefined, 'Bearer', 'Bearer nope', 'Basic abc', `Bearer ${'x'.repeat(40)}`]) {
      const req = request(vault.server).get('/v1/audit');
      const res = await (header ? req.set('authorization', header) : req);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    const refusals = await vault.deps.db.query<{ details: { status: number } }>(
      `SELECT details FROM audit_log WHERE action = 'request.refused'`,
    );
    expect(refusals.filter((r) => r.details.status === 401).length).toBeGreaterThanOrEqual(5);
  });

  it('does not create a second bootstrap admin once one exists', async () => {
    const { bootstrapAdmin } = await import('../../src/domain/principals.js');
    expect(await bootstrapAdmin(vault.deps, 'vv_another-bootstrap-token-0123456789')).toBe(false);
  });

  it('serves health and readiness without a token', async () => {
    expect((await request(vault.server).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(vault.server).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', storage: 'ok', epochKeys: 'ok' } });
  });

  it('lets an auditor read and verify the chain', async () => {
    const auditor = await vault.addPrincipal({ id: 'aud-2', roles: ['auditor'] });
    const list = await request(vault.server).get('/v1/audit?limit=5').set(bearer(auditor));
    expect(list.status).toBe(200);
    expect(list.body.entries).toHaveLength(5);
    expect(list.body.nextAfter).toBe(list.body.entries[4].id);
    await vault.deps.sequenceNow();
    const verify = await request(vault.server).get('/v1/audit/verify').set(bearer(auditor));
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });
    expect(verify.body.checked).toBeGreaterThan(5);
  });
});
