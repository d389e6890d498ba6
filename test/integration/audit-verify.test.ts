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
    const consentEntry = (trail.body.entries as { id: string; action: string }[]).find(
      (e) => e.action === 'consent.recorded',
    )!;
    // Someone with database access rewrites who recorded the consent.
    await vault.deps.db.query(`UPDATE audit_log SET actor_id = 'someone-else' WHERE id = $1`, [consentEntry.id]);
    const res = await request(vault.server).get('/v1/audit/verify').set(bearer(auditor));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, firstBrokenId: consentEntry.id });
    expect(res.body.checked).toBeGreaterThan(0);
    expect(res.body.checked).toBeLessThan(Number(consentEntry.id));
  });

  it('shows a chain cut back past a kept head, which the chain alone cannot', async () => {
    const auditor = await vault.addPrincipal({ id: 'anchor-keeper', roles: ['auditor'], department: 'audit' });
    await vault.deps.db.query('DELETE FROM audit_log'); // start from a clean chain: the test above broke it on purpose
    await newVisit(vault);
    const first = await request(vault.server).get('/v1/audit/verify').set(bearer(auditor));
    expect(first.body).toMatchObject({
      ok: true,
      head: { id: expect.any(String), hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const kept = first.body.head as { id: string; hash: string };
    await newVisit(vault);

    const anchored = (id: string, hash: string) =>
      request(vault.server).get(`/v1/audit/verify?anchorId=${id}&anchorHash=${hash}`).set(bearer(auditor));
    expect((await anchored(kept.id, kept.hash)).body).toMatchObject({ ok: true, anchor: 'matched' });

    // Someone with database access deletes the newest entries, the kept head among them: what is left still chains.
    await vault.deps.db.query('DELETE FROM audit_log WHERE id >= $1', [kept.id]);
    expect((await request(vault.server).get('/v1/audit/verify').set(bearer(auditor))).body).toMatchObject({ ok: true });
    const cut = await anchored(kept.id, kept.hash);
    expect(cut.status).toBe(200);
    expect(cut.body).toMatchObject({ ok: false, anchor: 'missing', firstBrokenId: kept.id });

    const wrongHash = await anchored(String(Number(kept.id) - 1), kept.hash);
    expect(wrongHash.body).toMatchObject({ ok: false, anchor: 'changed' });
  });

  it('refuses an anchor without its hash, or a malformed one', async () => {
    const auditor = await vault.addPrincipal({ id: 'anchor-typo', roles: ['auditor'], department: 'audit' });
    for (const q of [
      'anchorId=5',
      `anchorHash=${'a'.repeat(64)}`,
      `anchorId=x&anchorHash=${'a'.repeat(64)}`,
      'anchorId=5&anchorHash=ABC',
    ]) {
      const res = await request(vault.server).get(`/v1/audit/verify?${q}`).set(bearer(auditor));
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBeTypeOf('string');
    }
  });
});
