import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { parseKeks } from '../../src/crypto/keyring.js';
import { assertKeysAvailable, rewrapEpochKeys } from '../../src/domain/key-rotation.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { fixedKeks, startTestVault, type TestVault } from '../helpers/vault.js';

const DAY = 86_400_000;

/**
 * KEK rotation: new epoch keys wrap under the newest KEK; rewrapping touches the
 * epoch keys only (not one order key, not one audio byte); the old KEK can then
 * go and everything still plays.
 */
describe('key rotation on postgres+s3', () => {
  let v1: TestVault;
  beforeAll(async () => {
    v1 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([1]) });
  });
  afterAll(async () => v1?.close());

  const epochVersions = async () =>
    (
      await v1.deps.db.query<{ id: string; kek_version: number }>(
        'SELECT id, kek_version FROM epochs WHERE destroyed_at IS NULL ORDER BY id',
      )
    ).map((r) => r.kek_version);
  const orderWraps = async () =>
    (
      await v1.deps.db.query<{ order_id: string; epoch_id: string; wrapped_secret_key: Buffer }>(
        'SELECT order_id, epoch_id, wrapped_secret_key FROM orders WHERE wrapped_secret_key IS NOT NULL ORDER BY order_id',
      )
    ).map((r) => [r.order_id, r.epoch_id, Buffer.from(r.wrapped_secret_key).toString('hex')]);

  it('rewraps epoch keys without touching order keys or audio, and plays after the old KEK is removed', async () => {
    const old = await newVisit(v1);
    const audio = new Uint8Array(30_000).map((_, i) => (i * 7) & 0xff);
    const rec = await uploadSealed(v1, old, audio);
    const objects = async () =>
      Promise.all(
        (await v1.deps.blobs.list('recordings/')).map(async (k) => [k, (await v1.deps.blobs.get(k))!.toString('hex')]),
      );
    const objectsBefore = await objects();

    // A second server configured with "1:...,2:..." makes new epoch keys under 2.
    const v12 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([1, 2]) }, { stores: v1.stores });
    try {
      v12.clock.set(v1.clock.now());
      const platform = await v12.addPrincipal({ id: 'platform-rot', roles: ['platform'] });
      await v12.addPrincipal({ id: 'bea-rot', roles: ['beautician'], department: 'field' });
      const later = new Date(v12.clock.now().getTime() + 60 * DAY).toISOString();
      const res = await request(v12.server)
        .post('/v1/orders')
        .set(bearer(platform))
        .send({ orderId: 'ord-rot-later', beauticianId: 'bea-rot', customerId: 'c', scheduledAt: later });
      expect(res.status).toBe(201);
      const [fresh] = await v12.deps.db.query<{ kek_version: number }>(
        'SELECT e.kek_version FROM orders o JOIN epochs e ON e.id = o.epoch_id WHERE o.order_id = $1',
        ['ord-rot-later'],
      );
      expect(fresh?.kek_version).toBe(2);
      expect((await epochVersions()).filter((v) => v === 1).length).toBeGreaterThan(0);

      // Dropping v1 now would strand stored epoch keys: start refuses, naming the version.
      await expect(assertKeysAvailable(v12.deps.db, parseKeks(await fixedKeks([2])))).rejects.toThrow(
        /version 1 \(\d+ epoch keys\)/,
      );

      const wrapsBefore = await orderWraps();
      // Rewrap in batches of one; an interruption between batches loses nothing (each is a transaction).
      const first = await rewrapEpochKeys(v12.deps, { batchSize: 1 });
      expect(first.rewrapped).toBeGreaterThan(0);
      expect(first.missing).toEqual([]);
      expect(await epochVersions()).toEqual((await epochVersions()).map(() => 2));
      expect((await rewrapEpochKeys(v12.deps, { batchSize: 1 })).rewrapped).toBe(0);
      // The store holds each key under version 2 only: the copy under version 1 was replaced.
      for (const id of await v12.deps.epochKeys.store.list())
        expect((await v12.deps.epochKeys.store.get(id))?.kekVersion).toBe(2);
      // Not one order key was rewritten.
      expect(await orderWraps()).toEqual(wrapsBefore);
      const audits = (await listAudit(v12.deps.db, { limit: 1000 })).entries.filter(
        (e) => e.action === 'keys.rewrapped',
      );
      expect(audits.reduce((n, e) => n + Number(e.details.count), 0)).toBe(first.rewrapped);
    } finally {
      await v12.close();
    }

    // No audio object was read-modified: same keys, same bytes.
    expect(await objects()).toEqual(objectsBefore);

    // A server with only KEK 2 starts and plays the old recording byte for byte.
    const v2 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([2]) }, { stores: v1.stores });
    try {
      v2.clock.set(v1.clock.now());
      await assertKeysAvailable(v2.deps.db, v2.deps.keyring);
      const grant = await approvedRequest(v2, old.orderId);
      const played = await play(v2, grant, rec);
      expect(played.status).toBe(200);
      expect(Buffer.compare(played.body, Buffer.from(audio))).toBe(0);
    } finally {
      await v2.close();
    }
  });
});
