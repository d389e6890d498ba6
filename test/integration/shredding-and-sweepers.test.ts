import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { sequencedAndVerified } from '../helpers/audit.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

const DAY = 86_400_000;

/** Crypto-shredding and several sweepers, on PostgreSQL and S3 (s3rver). */
describe('shredding and concurrent sweepers on postgres+s3', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+s3');
  });
  afterAll(async () => vault?.close());

  it('never lets a copy of the objects taken before expiry be played or decrypted again', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    const grant = await approvedRequest(vault, visit.orderId);
    const original = await play(vault, grant, rec);
    expect(original.status).toBe(200);

    // A "backup" of the bucket, taken before expiry.
    const keys = await vault.deps.blobs.list(`recordings/${rec}/`);
    const backup = await Promise.all(keys.map(async (k) => [k, (await vault.deps.blobs.get(k))!] as const));

    vault.clock.advance(8 * DAY);
    const report = await runSweep(vault.deps);
    expect(report).toMatchObject({ expired: 1, ordersShredded: 1, objectsDeleted: keys.length });
    const [order] = await vault.deps.db.query<{ wrapped_secret_key: Uint8Array | null; shredded_at: Date | null }>(
      'SELECT wrapped_secret_key, shredded_at FROM orders WHERE order_id = $1',
      [visit.orderId],
    );
    expect(order?.wrapped_secret_key).toBeNull();
    expect(order?.shredded_at).not.toBeNull();

    // Restore the backup: every object is back, byte for byte...
    for (const [k, body] of backup) await vault.deps.blobs.put(k, body);
    expect(await vault.deps.blobs.list(`recordings/${rec}/`)).toEqual(keys);
    // ...and still nothing can be played: the only key that opened them is gone.
    expect(await play(vault, grant, rec)).toMatchObject({ status: 410 });
    const again = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(grant.staffToken))
      .send({ orderId: visit.orderId, purpose: 'legal_request', reason: 'court order', ticketRef: 'T-court' });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('order_shredded');
    // Nor can a new recording be started under the destroyed key.
    const started = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/recordings`)
      .set(bearer(visit.beauticianToken))
      .send({ sealedContentKey: 'A'.repeat(107), mimeType: 'audio/ogg' });
    expect(started.status).toBe(410);
  });

  it('expires and audits each recording exactly once when two servers sweep at the same time', async () => {
    const recordings: string[] = [];
    for (let i = 0; i < 4; i++) {
      const visit = await newVisit(vault);
      for (let j = 0; j < 15; j++) recordings.push(await uploadSealed(vault, visit, new Uint8Array(200).fill(j), 100));
    }
    vault.clock.advance(8 * DAY);
    // A second vault server: its own connection pool on the same schema and bucket.
    const otherDb = openPostgres({ connectionString: TEST_DATABASE_URL, schema: vault.stores.postgresSchema });
    const other: DomainDeps = { ...vault.deps, db: otherDb };
    try {
      const [a, b] = await Promise.all([runSweep(vault.deps), runSweep(other)]);
      expect(a.expired + b.expired).toBe(recordings.length);
      expect(a.ordersShredded + b.ordersShredded).toBe(4);
    } finally {
      await otherDb.close();
    }
    const rows = await vault.deps.db.query<{ recording_id: string }>(
      `SELECT recording_id FROM audit_log WHERE action = 'recording.expired'`,
    );
    const audited = rows.map((r) => r.recording_id).filter((id) => recordings.includes(id));
    expect(audited.sort()).toEqual([...recordings].sort());
    const shredAudits = await vault.deps.db.query(
      `SELECT order_id FROM audit_log WHERE action = 'order.keys_shredded'`,
    );
    expect(new Set(shredAudits.map((r) => (r as { order_id: string }).order_id)).size).toBe(shredAudits.length);
    for (const id of recordings.slice(0, 5)) expect(await vault.deps.blobs.list(`recordings/${id}/`)).toEqual([]);
    expect(await sequencedAndVerified(vault.deps)).toMatchObject({ ok: true });
  });

  it('converges after a crash between deleting the objects and marking the row', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    vault.clock.advance(8 * DAY);
    // The crashed run got as far as deleting the objects.
    await vault.deps.blobs.deletePrefix(`recordings/${rec}/`);
    const report = await runSweep(vault.deps);
    expect(report.expired).toBe(1);
    const [row] = await vault.deps.db.query<{ status: string }>('SELECT status FROM recordings WHERE id = $1', [rec]);
    expect(row?.status).toBe('expired');
    const entries = (await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 100 })).entries.filter(
      (e) => e.action === 'recording.expired',
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]?.details).toEqual({ objectsDeleted: 0 });
    expect((await runSweep(vault.deps)).expired).toBe(0);
  });
});
