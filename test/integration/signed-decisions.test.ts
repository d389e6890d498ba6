import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decisionSignatureValid,
  generateSigningKey,
  requestDigest,
  signDecision,
} from '../../src/crypto/decision-signature.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { signedDecision, signerFor } from '../helpers/signing.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

interface Decision {
  deciderId: string;
  decision: 'approve' | 'reject';
  comment: string;
  signature?: string;
  signerKeyId?: string;
  signerPublicKey?: string;
}

/** SPEC "Signed sign-offs", through HTTP: keys, the request digest, and decisions that prove themselves. */
describe.each(STORE_PAIRS)('signed sign-offs on %s', (pair) => {
  const tag = pair.replace('+', '-');
  let vault: TestVault;
  let orderId: string;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    vault = await startTestVault(pair);
    ({ orderId } = await newVisit(vault));
    for (const [name, roles, department] of [
      ['staff', ['dispute_staff'], 'disputes'],
      ['dh', ['department_head'], 'disputes'],
      ['sh', ['security_head'], 'security'],
      ['sh2', ['security_head'], 'security'],
      ['fresh', ['department_head'], 'disputes'],
      ['auditor', ['auditor'], 'audit'],
    ] as const)
      t[name] = await vault.addPrincipal({ id: `${name}-${tag}`, roles: [...roles], department, name: `The ${name}` });
  });
  afterAll(async () => vault?.close());

  const file = async () => {
    const res = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(t.staff!))
      .send({ orderId, purpose: 'dispute', reason: 'customer says the service was cut short', ticketRef: 'DSP-9' });
    expect(res.status).toBe(201);
    return res.body as { id: string; digest: string; createdAt: string; expiresAt: string };
  };
  const post = (token: string, id: string, body: object) =>
    request(vault.server).post(`/v1/access-requests/${id}/decisions`).set(bearer(token)).send(body);
  const read = async (id: string) =>
    (await request(vault.server).get(`/v1/access-requests/${id}`).set(bearer(t.auditor!))).body as {
      status: string;
      digest: string;
      decisions: Decision[];
    };
  const audit = async (action: string, requestId: string) =>
    vault.deps.db.query<{ outcome: string; actor_id: string; details: Record<string, unknown> }>(
      `SELECT outcome, actor_id, details FROM audit_log WHERE action = $1 AND details->>'requestId' = $2 ORDER BY id`,
      [action, requestId],
    );

  it('GET /v1/me says who the token is, and its key id once a key is registered', async () => {
    const me = await request(vault.server).get('/v1/me').set(bearer(t.fresh!));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: `fresh-${tag}`,
      name: 'The fresh',
      department: 'disputes',
      roles: ['department_head'],
    });
    const signer = await signerFor(vault.baseUrl, t.fresh!);
    expect((await request(vault.server).get('/v1/me').set(bearer(t.fresh!))).body.signingKeyId).toBe(signer.keyId);
    expect((await request(vault.server).get('/v1/me')).status).toBe(401);
  });

  it('registers a key once: heads only, 32 bytes, audited; replacing it needs an admin to clear it first', async () => {
    const id = `sh2-${tag}`;
    const put = (token: string, publicKey: unknown) =>
      request(vault.server).put('/v1/me/signing-key').set(bearer(token)).send({ publicKey });
    const first = await generateSigningKey();
    const second = await generateSigningKey();
    expect((await put(t.staff!, first.publicKey)).status).toBe(403);
    for (const bad of ['AAAA', `${first.publicKey}=`, 42, first.publicKey.slice(1)]) {
      const res = await put(t.sh2!, bad);
      expect(res.status, String(bad)).toBe(400);
      expect(res.body.error.field).toBe('publicKey');
    }
    const made = await put(t.sh2!, first.publicKey);
    expect(made.status).toBe(201);
    expect(made.body).toEqual({
      principalId: id,
      publicKey: first.publicKey,
      signingKeyId: first.keyId,
      setAt: vault.clock.now().toISOString(),
    });
    expect((await put(t.sh2!, first.publicKey)).status).toBe(200);
    const replace = await put(t.sh2!, second.publicKey);
    expect(replace.status).toBe(409);
    expect(replace.body.error.code).toBe('signing_key_already_set');

    const clear = (token: string) =>
      request(vault.server).delete(`/v1/principals/${id}/signing-key`).set(bearer(token));
    expect((await clear(t.sh2!)).status).toBe(403);
    const cleared = await clear(vault.adminToken);
    expect(cleared.status).toBe(200);
    expect(cleared.body.signingKeyId).toBe(first.keyId);
    expect((await clear(vault.adminToken)).status).toBe(409);
    expect((await request(vault.server).get('/v1/me').set(bearer(t.sh2!))).body.signingKeyId).toBeUndefined();
    expect((await put(t.sh2!, second.publicKey)).status).toBe(201);

    const trail = await vault.deps.db.query<{ action: string; actor_id: string; details: Record<string, unknown> }>(
      `SELECT action, actor_id, details FROM audit_log
        WHERE action IN ('principal.signing_key_set', 'principal.signing_key_cleared') AND details->>'principalId' = $1
        ORDER BY id`,
      [id],
    );
    expect(trail.map((e) => [e.action, e.actor_id, e.details.signingKeyId])).toEqual([
      ['principal.signing_key_set', id, first.keyId],
      ['principal.signing_key_cleared', 'bootstrap-admin', first.keyId],
      ['principal.signing_key_set', id, second.keyId],
    ]);
  });

  it('returns the digest SPEC step 5 defines on every read', async () => {
    const filed = await file();
    const expected = requestDigest({
      id: filed.id,
      orderId,
      purpose: 'dispute',
      reason: 'customer says the service was cut short',
      ticketRef: 'DSP-9',
      requesterId: `staff-${tag}`,
      filedAt: filed.createdAt,
      expiresAt: filed.expiresAt,
    });
    expect(filed.digest).toBe(expected);
    expect((await read(filed.id)).digest).toBe(expected);
    const listed = await request(vault.server).get(`/v1/access-requests?orderId=${orderId}`).set(bearer(t.staff!));
    expect(listed.body.requests.find((r: { id: string }) => r.id === filed.id).digest).toBe(expected);
  });

  it('keeps each decision with its signature and key, verifiable offline; the audit entry carries them', async () => {
    const filed = await file();
    expect(
      (await post(t.dh!, filed.id, await signedDecision(vault.baseUrl, t.dh!, filed.id, 'approve', 'ok'))).status,
    ).toBe(200);
    const done = await post(t.sh!, filed.id, await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'fine'));
    expect(done.body.status).toBe('approved');
    const view = await read(filed.id);
    for (const d of view.decisions) {
      const signer = await signerFor(vault.baseUrl, d.deciderId === `dh-${tag}` ? t.dh! : t.sh!);
      expect(d).toMatchObject({ signerKeyId: signer.keyId, signerPublicKey: signer.publicKey });
      const signed = {
        requestId: filed.id,
        requestDigest: view.digest,
        decision: d.decision,
        comment: d.comment,
        signerId: d.deciderId,
      };
      expect(await decisionSignatureValid(signed, d.signature!, d.signerPublicKey!)).toBe(true);
    }
    const entries = await audit('access_request.decided', filed.id);
    expect(entries).toHaveLength(2);
    for (const [i, e] of entries.entries())
      expect(e.details).toMatchObject({
        requestDigest: view.digest,
        signature: view.decisions[i]!.signature,
        signerKeyId: view.decisions[i]!.signerKeyId,
      });

    // Clearing a key later does not unmake what it signed.
    await request(vault.server).delete(`/v1/principals/dh-${tag}/signing-key`).set(bearer(vault.adminToken));
    const after = await read(filed.id);
    expect(after.decisions).toEqual(view.decisions);
  });

  it('refuses (400, audited, nothing counted) unsigned, wrong-key, wrong-request, changed-comment and swapped-verb decisions', async () => {
    const filed = await file();
    const other = await file();
    const shSigner = await signerFor(vault.baseUrl, t.sh!);
    const dhSigner = await signerFor(vault.baseUrl, t.dh!);
    const foreignSeed = (await generateSigningKey()).seed;
    const cases: [string, object, string][] = [
      ['unsigned', { decision: 'approve', comment: 'ok' }, 'signature_required'],
      [
        "another head's key",
        await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok', { seed: dhSigner.seed }),
        'bad_signature',
      ],
      [
        'an unregistered key',
        await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok', { seed: foreignSeed }),
        'bad_signature',
      ],
      [
        "another request's digest",
        await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok', { digest: other.digest }),
        'bad_signature',
      ],
      [
        'a changed comment',
        { ...(await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok')), comment: 'ok!' },
        'bad_signature',
      ],
      [
        'approve used as reject',
        { ...(await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok')), decision: 'reject' },
        'bad_signature',
      ],
      [
        'another signer id',
        await signedDecision(vault.baseUrl, t.sh!, filed.id, 'approve', 'ok', { signerId: `dh-${tag}` }),
        'bad_signature',
      ],
      ['garbage', { decision: 'approve', comment: 'ok', signature: 'not-a-signature' }, 'bad_signature'],
    ];
    for (const [what, body, code] of cases) {
      const res = await post(t.sh!, filed.id, body);
      expect(res.status, what).toBe(400);
      expect(res.body.error, what).toMatchObject({ code, field: 'signature' });
    }
    expect(await read(filed.id)).toMatchObject({ status: 'pending', decisions: [] });
    const refused = await audit('access_request.decision_refused', filed.id);
    expect(refused.map((e) => [e.outcome, e.actor_id, e.details.code])).toEqual(
      cases.map(([, , code]) => ['refused', `sh-${tag}`, code]),
    );
    expect(refused.every((e) => e.details.requestDigest === filed.digest)).toBe(true);
    expect(refused[1]?.details.signerKeyId).toBe(shSigner.keyId);
    expect(await audit('access_request.decided', filed.id)).toEqual([]);
    // The same head, signing properly, still counts.
    const good = await post(t.sh!, filed.id, await signedDecision(vault.baseUrl, t.sh!, filed.id, 'reject', 'no'));
    expect(good.status).toBe(200);
    expect(good.body.status).toBe('rejected');
  });

  it('answers a head without a key that it must register one', async () => {
    // Made before the filing: only the heads there at filing may sign (SPEC step 6).
    const unregistered = await vault.addPrincipal({ id: `nokey-${tag}`, roles: ['security_head'] });
    const filed = await file();
    const res = await post(t.fresh!, filed.id, { decision: 'approve', comment: 'ok' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('signature_required');
    const signed = await signDecision(
      {
        requestId: filed.id,
        requestDigest: filed.digest,
        decision: 'approve',
        comment: 'ok',
        signerId: `nokey-${tag}`,
      },
      (await generateSigningKey()).seed,
    );
    const noKey = await post(unregistered, filed.id, { decision: 'approve', comment: 'ok', signature: signed });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error).toMatchObject({ code: 'bad_signature', message: expect.stringMatching(/signing-key/) });
  });
});

describe('VAULT_REQUIRE_SIGNED_DECISIONS=false', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_REQUIRE_SIGNED_DECISIONS: 'false' });
  });
  afterAll(async () => vault?.close());

  it('counts an unsigned decision, but still refuses a signature that does not verify', async () => {
    const { orderId } = await newVisit(vault);
    const staff = await vault.addPrincipal({ id: 'u-staff', roles: ['dispute_staff'], department: 'd' });
    const dh = await vault.addPrincipal({ id: 'u-dh', roles: ['department_head'], department: 'd' });
    const sh = await vault.addPrincipal({ id: 'u-sh', roles: ['security_head'], department: 's' });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(staff))
      .send({ orderId, purpose: 'safety', reason: 'r', ticketRef: 'T' });
    const id = filed.body.id as string;
    const bad = { ...(await signedDecision(vault.baseUrl, sh, id, 'approve', 'ok')), comment: 'changed' };
    expect(
      (await request(vault.server).post(`/v1/access-requests/${id}/decisions`).set(bearer(sh)).send(bad)).status,
    ).toBe(400);
    const unsigned = await request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(dh))
      .send({ decision: 'approve', comment: 'ok' });
    expect(unsigned.status).toBe(200);
    expect(unsigned.body.decisions[0]).toEqual({
      deciderId: 'u-dh',
      deciderName: 'u-dh',
      decision: 'approve',
      countedAs: 'department_head',
      comment: 'ok',
      decidedAt: expect.any(String),
    });
    const signed = await request(vault.server)
      .post(`/v1/access-requests/${id}/decisions`)
      .set(bearer(sh))
      .send(await signedDecision(vault.baseUrl, sh, id, 'approve', 'ok'));
    expect(signed.body.status).toBe('approved');
    expect(signed.body.decisions[1].signature).toEqual(expect.any(String));
  });
});
