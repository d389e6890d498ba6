import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit } from '../helpers/actors.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * GET /v1/audit/verify through HTTP: an edit made directly in the database
 * shows as the first broken entry; a log cut back or rewritten shows against
 * the published checkpoint and against a checkpoint an auditor kept.
 */
describe.each(STORE_PAIRS)('GET /v1/audit/verify after tampering on %s', (pair) => {
  let vault: TestVault;
  let auditor: string;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    auditor = await vault.addPrincipal({ id: 'verifier', roles: ['auditor'], department: 'audit' });
  });
  afterAll(async () => vault?.close());

  const verify = (checkpoint?: string) =>
    request(vault.server)
      .get(`/v1/audit/verify${checkpoint ? `?checkpoint=${encodeURIComponent(checkpoint)}` : ''}`)
      .set(bearer(auditor));
  const keptCheckpoint = async () => (await request(vault.server).get('/v1/audit/checkpoint')).text;

  it('checks an older checkpoint kept by an auditor, and refuses one the log did not sign', async () => {
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const kept = await keptCheckpoint();
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const res = await verify(kept);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(res.body.treeSize).toBeGreaterThan(Number(kept.split('\n')[1]));
    expect(res.body.checked).toBe(res.body.treeSize);
    const forged = kept.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`);
    const bad = await verify(forged);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('checkpoint');
    expect((await verify('x'.repeat(9000))).status).toBe(400);
  });

  it('names the first broken entry after an edit', async () => {
    const visit = await newVisit(vault);
    await vault.deps.sequenceNow();
    const trail = await request(vault.server).get(`/v1/audit?orderId=${visit.orderId}`).set(bearer(auditor));
    const consentEntry = (trail.body.entries as { id: string; action: string; index: number }[]).find(
      (e) => e.action === 'consent.recorded',
    )!;
    expect(consentEntry.index).toEqual(expect.any(Number));
    const [original] = await vault.deps.db.query<{ actor_id: string }>('SELECT actor_id FROM audit_log WHERE id = $1', [
      consentEntry.id,
    ]);
    // Someone with database access rewrites who recorded the consent.
    await vault.deps.db.query(`UPDATE audit_log SET actor_id = 'someone-else' WHERE id = $1`, [consentEntry.id]);
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, firstBrokenId: consentEntry.id });
    // Put back, for the next test.
    await vault.deps.db.query(`UPDATE audit_log SET actor_id = $2 WHERE id = $1`, [
      consentEntry.id,
      original?.actor_id,
    ]);
    expect((await verify()).body).toMatchObject({ ok: true });
  });

  it('shows a log cut back, even with its database checkpoints cut too, against the published one', async () => {
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const before = await verify();
    expect(before.body).toMatchObject({ ok: true });
    const kept = await keptCheckpoint();
    const size = Number(kept.split('\n')[1]);
    // Someone with database access deletes the newest entries and every trace of them in the tree.
    await vault.deps.db.query('DELETE FROM audit_log WHERE leaf_index >= $1', [size - 3]);
    await vault.deps.db.query('DELETE FROM audit_checkpoints WHERE tree_size > $1', [size - 3]);
    const cut = await verify();
    expect(cut.status).toBe(200);
    expect(cut.body).toMatchObject({ ok: false, treeSize: size });
    expect(cut.body.checked).toBeLessThan(size);
    const withKept = await verify(kept);
    expect(withKept.body).toMatchObject({ ok: false });
  });
});
