import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { bearer, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { play, uploadSealed } from '../helpers/recordings.js';
import { signedDecision } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * Issue 18 item 7 (SPEC steps 6 and 7): who may sign is fixed at filing, a signer revoked before approval no
 * longer counts, a security head ends a live grant, and a grant covers only recordings closed at approval.
 */
describe.each(STORE_PAIRS)('signer sets, revocation and grant coverage on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  let visit: Visit;
  let sealed: string;
  const t: Record<string, string> = {};
  let n = 0;

  beforeAll(async () => {
    vault = await startTestVault(pair);
    visit = await newVisit(vault);
    sealed = await uploadSealed(vault, visit);
    for (const [name, roles, department] of [
      ['staff', ['dispute_staff'], 'disputes'],
      ['dh', ['department_head'], 'disputes'],
      ['dh2', ['department_head'], 'disputes'],
      ['sh', ['security_head'], 'security'],
    ] as const)
      t[name] = await vault.addPrincipal({ id: `${name}-${tag}`, roles: [...roles], department });
  });
  afterAll(async () => vault?.close());

  const file = async () => {
    const res = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(t.staff!))
      .send({ orderId: visit.orderId, purpose: 'dispute', reason: 'complaint', ticketRef: `T-${++n}` });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const decide = async (token: string, id: string) =>
    request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(token))
      .send(await signedDecision(vault.baseUrl, token, id, 'approve', 'ok'));
  const approved = async () => {
    const id = await file();
    expect((await decide(t.dh!, id)).status).toBe(200);
    expect((await decide(t.sh!, id)).body.status).toBe('approved');
    return id;
  };
  const revoke = (token: string, id: string, body: object = { reason: 'ticket closed' }) =>
    request(vault.server).post(`/v1/access-requests/${id}/revoke`).set(bearer(token)).send(body);

  it('does not count a head whose role came after the filing', async () => {
    const id = await file();
    const lateId = `late-sh-${tag}-${n}`;
    const late = await vault.addPrincipal({ id: lateId, roles: ['security_head'], department: 'security' });
    const res = await decide(late, id);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_a_signer');
    // A request filed after the head exists does count it.
    const next = await file();
    expect((await decide(late, next)).status).toBe(200);
    const [filed] = await vault.deps.db.query<{ details: { signers: Record<string, string[]> } }>(
      `SELECT details FROM audit_log WHERE action = 'access_request.filed' AND details->>'requestId' = $1`,
      [id],
    );
    expect(filed?.details.signers).toEqual({
      [`dh-${tag}`]: ['department_head'],
      [`dh2-${tag}`]: ['department_head'],
      [`sh-${tag}`]: ['security_head'],
    });
  });

  it('stops counting a signer revoked before approval: the request waits for another', async () => {
    const leaving = `leaving-${tag}`;
    const leavingToken = await vault.addPrincipal({ id: leaving, roles: ['department_head'], department: 'disputes' });
    const id = await file();
    expect((await decide(leavingToken, id)).body.status).toBe('pending');
    expect((await request(vault.server).delete(`/v1/principals/${leaving}`).set(bearer(vault.adminToken))).status).toBe(
      200,
    );
    const afterSecurity = await decide(t.sh!, id);
    expect(afterSecurity.status).toBe(200);
    expect(afterSecurity.body.status).toBe('pending');
    const done = await decide(t.dh2!, id);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('approved');
  });

  it('lets a security head end a live grant: revoked, audited, audio 410', async () => {
    const id = await approved();
    const grant = { staffToken: t.staff!, requestId: id };
    expect((await play(vault, grant, sealed)).status).toBe(200);
    expect((await revoke(t.dh!, id)).status).toBe(403);
    expect((await revoke(t.staff!, id)).status).toBe(403);
    const empty = await revoke(t.sh!, id, { reason: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe('reason');
    const res = await revoke(t.sh!, id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      status: 'revoked',
      revokedBy: `sh-${tag}`,
      revokeReason: 'ticket closed',
      revokedAt: vault.clock.now().toISOString(),
    });
    const after = await play(vault, grant, sealed);
    expect(after).toMatchObject({ status: 410, code: 'grant_revoked' });
    const again = await revoke(t.sh!, id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('request_revoked');
    expect((await revoke(t.sh!, await file())).body.error.code).toBe('request_pending');
    const [entry] = await vault.deps.db.query<{ actor_id: string; details: Record<string, unknown> }>(
      `SELECT actor_id, details FROM audit_log WHERE action = 'access_request.revoked' AND details->>'requestId' = $1`,
      [id],
    );
    expect(entry).toMatchObject({ actor_id: `sh-${tag}`, details: { reason: 'ticket closed' } });
  });

  it('answers 410 to revoking a grant that already ran out', async () => {
    const id = await approved();
    vault.clock.advance(vault.config.grantTtlMs);
    const res = await revoke(t.sh!, id);
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('grant_expired');
  });

  it('covers only the recordings sealed or incomplete when the request was approved', async () => {
    const v = await newVisit(vault);
    const before = await uploadSealed(vault, v);
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: v.beauticianToken });
    const open = await phone.startRecording({ orderId: v.orderId, orderPublicKey: v.publicKey, mimeType: 'audio/ogg' });
    const chunks = open.encrypt(splitIntoChunks(fakeAudio(9000, 77), 4096));
    await open.forgetKey();
    await open.uploadMissing(chunks);

    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(t.staff!))
      .send({ orderId: v.orderId, purpose: 'safety', reason: 'r', ticketRef: 'T-cover' });
    const id = filed.body.id as string;
    await decide(t.dh!, id);
    expect((await decide(t.sh!, id)).body.status).toBe('approved');
    vault.clock.advance(1000);
    await open.complete(chunks.length);
    const after = await uploadSealed(vault, v);

    const grant = { staffToken: t.staff!, requestId: id };
    expect((await play(vault, grant, before)).status).toBe(200);
    for (const later of [open.recordingId, after])
      expect(await play(vault, grant, later)).toMatchObject({ status: 403, code: 'recording_not_in_grant' });
  });
});
