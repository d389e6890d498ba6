import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newVisit } from '../helpers/actors.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * SPEC step 8: expiry is decided by time at every read, not by the sweeper
 * having run. No sweeper runs in these vaults (startTestVault starts no
 * workers); time is the ManualClock's. Only holds extend retention: a grant
 * that outlives retainUntil plays nothing after it.
 */
describe.each(STORE_PAIRS)('expiry by time, sweeper stopped, on %s', (pair) => {
  let vault: TestVault;
  let officer: string;
  let auditor: string;
  let n = 0;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    auditor = await vault.addPrincipal({
      id: `exp-auditor-${pair.replace('+', '-')}`,
      roles: ['auditor'],
      department: 'audit',
    });
    officer = await vault.addPrincipal({
      id: `exp-officer-${pair.replace('+', '-')}`,
      roles: ['dispute_staff'],
      department: 'disputes',
    });
  });
  afterAll(async () => vault?.close());

  const list = (token: string, orderId: string) =>
    request(vault.server).get(`/v1/orders/${orderId}/recordings`).set(bearer(token));
  const file = (orderId: string) =>
    request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(officer))
      .send({ orderId, purpose: 'dispute', reason: 'late', ticketRef: `T-exp-${++n}` });
  const objectsOf = (recordingId: string) => vault.deps.blobs.list(`recordings/${recordingId}/`);

  it('a sealed recording past retainUntil with no hold reads expired, plays 410 and takes no request, its objects still there', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    vault.clock.advance(7 * DAY - HOUR);
    // Approved an hour before the end: the grant (24 h) outlives the recording's retention.
    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, rec)).status).toBe(200);
    const before = await list(officer, visit.orderId);
    expect(before.body.recordings[0].status).toBe('sealed');

    vault.clock.advance(HOUR);
    const after = await list(officer, visit.orderId);
    expect(after.status).toBe(200);
    expect(after.body.recordings[0]).toMatchObject({ recordingId: rec, status: 'expired' });
    const upload = await request(vault.server)
      .get(`/v1/recordings/${rec}/upload-state`)
      .set(bearer(visit.beauticianToken));
    expect(upload.body.status).toBe('expired');
    const evidence = await request(vault.server).get(`/v1/orders/${visit.orderId}/evidence`).set(bearer(auditor));
    expect(evidence.status).toBe(200);
    expect(evidence.body.recordings).toEqual([expect.objectContaining({ recordingId: rec, status: 'expired' })]);
    const played = await play(vault, grant, rec);
    expect(played).toMatchObject({ status: 410, code: 'recording_expired' });
    const filed = await file(visit.orderId);
    expect(filed.status).toBe(410);
    expect(filed.body.error.code).toBe('recording_expired');

    // Nothing was swept: the rows and objects are still there, and still nothing reads them.
    const [row] = await vault.deps.db.query<{ status: string }>('SELECT status FROM recordings WHERE id = $1', [rec]);
    expect(row?.status).toBe('sealed');
    expect((await objectsOf(rec)).length).toBeGreaterThan(0);
  });

  it('a hold placed before retainUntil keeps it readable past it; lifted, it expires at once', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    const hold = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(visit.platformToken))
      .send({ reason: 'complaint' });
    expect(hold.status).toBe(201);
    vault.clock.advance(8 * DAY);
    expect((await list(officer, visit.orderId)).body.recordings[0].status).toBe('sealed');
    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, rec)).status).toBe(200);

    const lifted = await request(vault.server).delete(`/v1/holds/${hold.body.id}`).set(bearer(visit.platformToken));
    expect(lifted.status).toBe(200);
    expect((await list(officer, visit.orderId)).body.recordings[0].status).toBe('expired');
    expect((await play(vault, grant, rec)).status).toBe(410);
    expect((await file(visit.orderId)).status).toBe(410);
  });

  it('a hold whose own until has passed keeps nothing', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    const until = new Date(vault.clock.now().getTime() + 10 * DAY).toISOString();
    const hold = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(visit.platformToken))
      .send({ reason: 'bad_review', until });
    expect(hold.status).toBe(201);
    vault.clock.advance(10 * DAY - HOUR);
    const grant = await approvedRequest(vault, visit.orderId);
    expect((await play(vault, grant, rec)).status).toBe(200);
    vault.clock.advance(HOUR);
    expect((await list(officer, visit.orderId)).body.recordings[0].status).toBe('expired');
    expect((await play(vault, grant, rec)).status).toBe(410);
  });
});
