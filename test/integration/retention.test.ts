import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { bearer, fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** SPEC step 8, with time driven by the injectable clock. */
describe.each(STORE_PAIRS)('retention on %s', (pair) => {
  let vault: TestVault;
  let securityHead: string;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    securityHead = await vault.addPrincipal({
      id: `sec-head-${pair.replace('+', '-')}`,
      roles: ['security_head'],
      department: 'security',
    });
  });
  afterAll(async () => vault?.close());

  const objectsOf = (recordingId: string) => vault.deps.blobs.list(`recordings/${recordingId}/`);
  const statusOf = async (recordingId: string) =>
    (await vault.deps.db.query<{ status: string }>('SELECT status FROM recordings WHERE id = $1', [recordingId]))[0]
      ?.status;
  const placeHold = (token: string, orderId: string, body: object) =>
    request(vault.server).post(`/v1/orders/${orderId}/holds`).set(bearer(token)).send(body);

  it('destroys an unheld recording 7 days after sealing, keeps a held one until its hold is lifted', async () => {
    const unheld = await newVisit(vault);
    const held = await newVisit(vault);
    const a = await uploadSealed(vault, unheld);
    const b = await uploadSealed(vault, held);
    const grantA = await approvedRequest(vault, unheld.orderId);
    const grantB = await approvedRequest(vault, held.orderId);
    expect((await play(vault, grantA, a)).status).toBe(200);

    const hold = await placeHold(held.platformToken, held.orderId, {
      reason: 'complaint',
      note: 'customer complained',
    });
    expect(hold.status).toBe(201);
    expect(hold.body).toMatchObject({
      orderId: held.orderId,
      reason: 'complaint',
      // No `until`: VAULT_MAX_HOLD (180 days) from now, the longest a hold may run.
      until: new Date(vault.clock.now().getTime() + 180 * DAY).toISOString(),
      placedBy: expect.any(String),
      placedAt: vault.clock.now().toISOString(),
    });

    vault.clock.advance(7 * DAY - HOUR);
    expect((await runSweep(vault.deps)).expired).toBe(0);
    vault.clock.advance(2 * HOUR);
    const report = await runSweep(vault.deps);
    expect(report.expired).toBe(1);
    expect(report.ordersShredded).toBe(1);

    expect(await statusOf(a)).toBe('expired');
    expect(await objectsOf(a)).toEqual([]);
    expect(await statusOf(b)).toBe('sealed');
    expect((await objectsOf(b)).length).toBeGreaterThan(0);

    // Unplayable: a fresh approval cannot be had (410), and the old grant ran out anyway.
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(grantA.staffToken))
      .send({ orderId: unheld.orderId, purpose: 'dispute', reason: 'again', ticketRef: 'T-x' });
    expect(filed.status).toBe(410);
    expect((await play(vault, grantA, a)).status).toBe(410);

    // The metadata still tells the story, with the hold on the held order.
    const staffList = await request(vault.server)
      .get(`/v1/orders/${held.orderId}/recordings`)
      .set(bearer(grantB.staffToken));
    expect(staffList.body.recordings[0].holds).toEqual([
      expect.objectContaining({ id: hold.body.id, reason: 'complaint' }),
    ]);
    const gone = await request(vault.server)
      .get(`/v1/orders/${unheld.orderId}/recordings`)
      .set(bearer(grantA.staffToken));
    expect(gone.body.recordings[0]).toMatchObject({
      recordingId: a,
      status: 'expired',
      expiredAt: vault.clock.now().toISOString(),
      holds: [],
    });

    // Lifting the hold lets the next sweep take it.
    const lifted = await request(vault.server).delete(`/v1/holds/${hold.body.id}`).set(bearer(securityHead));
    expect(lifted.status).toBe(200);
    expect((await request(vault.server).delete(`/v1/holds/${hold.body.id}`).set(bearer(securityHead))).status).toBe(
      409,
    );
    expect((await runSweep(vault.deps)).expired).toBe(1);
    expect(await statusOf(b)).toBe('expired');
    expect(await objectsOf(b)).toEqual([]);

    const story = (await listAudit(vault.deps.db, { orderId: held.orderId, limit: 1000 })).entries.map((e) => e.action);
    expect(story).toEqual(
      expect.arrayContaining(['hold.placed', 'hold.lifted', 'recording.expired', 'order.keys_shredded']),
    );
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });

  it('lets a hold with an end date end by itself', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    const until = new Date(vault.clock.now().getTime() + 10 * DAY).toISOString();
    expect((await placeHold(securityHead, visit.orderId, { reason: 'bad_review', until })).status).toBe(201);
    vault.clock.advance(8 * DAY);
    await runSweep(vault.deps);
    expect(await statusOf(rec)).toBe('sealed');
    vault.clock.advance(2 * DAY + HOUR);
    await runSweep(vault.deps);
    expect(await statusOf(rec)).toBe('expired');
  });

  // SPEC step 8: only holds extend retention. A request re-filed every 72 h, or an approved one, keeps nothing.
  it('destroys a recording at retainUntil though an access request on it is pending and another approved', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    vault.clock.advance(7 * DAY - 2 * HOUR);
    // Approved 2 hours before retainUntil: its 24-hour grant outlives the recording's retention.
    const approved = await approvedRequest(vault, visit.orderId);
    const staff = await vault.addPrincipal({
      id: `pending-officer-${pair.replace('+', '-')}`,
      roles: ['dispute_staff'],
      department: 'disputes',
    });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(staff))
      .send({ orderId: visit.orderId, purpose: 'safety', reason: 'r', ticketRef: 'T-p' });
    expect(filed.status).toBe(201);
    await runSweep(vault.deps);
    expect(await statusOf(rec)).toBe('sealed');
    vault.clock.advance(3 * HOUR);
    const report = await runSweep(vault.deps);
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await statusOf(rec)).toBe('expired');
    expect(await objectsOf(rec)).toEqual([]);
    expect((await play(vault, approved, rec)).status).toBe(410);
  });

  it('marks a silent recording incomplete, keeps what arrived, and expires it 7 days after its last chunk', async () => {
    const visit = await newVisit(vault);
    const { PhoneClient, splitIntoChunks } = await import('../../src/client/phone-client.js');
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    const chunks = upload.encrypt(splitIntoChunks(fakeAudio(10_000), 2_000));
    await upload.uploadChunk(chunks[0]!);
    await upload.uploadChunk(chunks[1]!);
    const lastChunkAt = vault.clock.now().getTime();

    vault.clock.advance(5 * HOUR);
    await runSweep(vault.deps);
    expect(await statusOf(upload.recordingId)).toBe('recording');
    vault.clock.advance(2 * HOUR);
    expect((await runSweep(vault.deps)).incomplete).toBe(1);
    expect(await statusOf(upload.recordingId)).toBe('incomplete');
    const [row] = await vault.deps.db.query<{ retain_until: Date }>(
      'SELECT retain_until FROM recordings WHERE id = $1',
      [upload.recordingId],
    );
    expect(row?.retain_until.getTime()).toBe(lastChunkAt + 7 * DAY);
    expect(await objectsOf(upload.recordingId)).toHaveLength(2);
    // The phone coming back late is told the recording is closed.
    await expect(upload.uploadChunk(chunks[2]!)).rejects.toMatchObject({ status: 409, code: 'recording_incomplete' });

    vault.clock.set(new Date(lastChunkAt + 7 * DAY + 1000));
    await runSweep(vault.deps);
    expect(await statusOf(upload.recordingId)).toBe('expired');
    await expect(upload.uploadChunk(chunks[2]!)).rejects.toMatchObject({ status: 410 });
  });

  it('validates holds and who may place them', async () => {
    const visit: Visit = await newVisit(vault);
    expect((await placeHold(visit.platformToken, visit.orderId, { reason: 'whim' })).status).toBe(400);
    expect(
      (await placeHold(visit.platformToken, visit.orderId, { reason: 'legal', until: '2000-01-01T00:00:00Z' })).body
        .error.field,
    ).toBe('until');
    expect((await placeHold(visit.platformToken, 'no-such-order', { reason: 'legal' })).status).toBe(404);
    expect((await placeHold(visit.beauticianToken, visit.orderId, { reason: 'legal' })).status).toBe(403);
    expect((await request(vault.server).delete('/v1/holds/hold_nope').set(bearer(securityHead))).status).toBe(404);
  });
});
