import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit } from '../helpers/actors.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** An edit made directly in the database shows through HTTP as the first broken entry. */
describe.each(STORE_PAIRS)('GET /v1/audit/verify after tampering on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  it('names the first broken entry', async () => {
    const visit = await newVisit(vault);
    const auditor = await vault.addPrincipal({ id: 'verifier', roles: ['auditor'], department: 'audit' });
    expect((await request(vault.server).get('/v1/audit/verify').set(bearer(auditor))).body).toMatchObject({ ok: true });
    const trail = await request(vault.server).get(`/v1/audit?orderId=${visit.orderId}`).set(bearer(auditor));
    const consentEntry = (trail.body.entries as { id: string; action: string }[]).find((e) => e.action === 'consent.recorded')!;
    // Someone with database access rewrites who recorded the consent.
    await vault.deps.db.query(`UPDATE audit_log SET actor_id = 'someone-else' WHERE id = $1`, [consentEntry.id]);
    const res = await request(vault.server).get('/v1/audit/verify').set(bearer(auditor));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, firstBrokenId: consentEntry.id });
    expect(res.body.checked).toBeGreaterThan(0);
    expect(res.body.checked).toBeLessThan(Number(consentEntry.id));
  });
});
