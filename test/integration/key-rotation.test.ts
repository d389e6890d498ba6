import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { parseKeks } from '../../src/crypto/keyring.js';
import { assertKeysAvailable, rewrapOrderKeys } from '../../src/domain/key-rotation.js';
import { newVisit } from '../helpers/actors.js';
import { approvedRequest, play, uploadSealed } from '../helpers/recordings.js';
import { fixedKeks, startTestVault, type TestVault } from '../helpers/vault.js';

/** KEK rotation: new wraps under the newest KEK, rewrap everything, drop the old KEK, everything still plays. */
describe('key rotation on postgres+s3', () => {
  let v1: TestVault;
  beforeAll(async () => {
    v1 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([1]) });
  });
  afterAll(async () => v1?.close());

  const versions = async () =>
    (
      await v1.deps.db.query<{ kek_version: number }>(
        'SELECT kek_version FROM orders WHERE wrapped_secret_key IS NOT NULL ORDER BY order_id',
      )
    ).map((r) => r.kek_version);

  it('rewraps without touching audio and plays after the old KEK is removed', async () => {
    const old = await newVisit(v1);
    const audio = new Uint8Array(30_000).map((_, i) => (i * 7) & 0xff);
    const rec = await uploadSealed(v1, old, audio);
    const objectsBefore = await Promise.all(
      (await v1.deps.blobs.list('recordings/')).map(async (k) => [k, (await v1.deps.blobs.get(k))!.toString('hex')]),
    );

    // A second server configured with "1:...,2:..." wraps new orders under 2.
    const v12 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([1, 2]) }, { stores: v1.stores });
    try {
      const fresh = await newVisit(v12);
      const [row] = await v12.deps.db.query<{ kek_version: number }>(
        'SELECT kek_version FROM orders WHERE order_id = $1',
        [fresh.orderId],
      );
      expect(row?.kek_version).toBe(2);
      expect((await versions()).filter((v) => v === 1).length).toBeGreaterThan(0);

      // Dropping v1 now would strand stored wraps: start refuses, naming the version.
      await expect(assertKeysAvailable(v12.deps.db, parseKeks(await fixedKeks([2])))).rejects.toThrow(
        /version 1 \(\d+ order keys\)/,
      );

      // Rewrap in small batches; interrupting between batches loses nothing (each batch is a transaction).
      const first = await rewrapOrderKeys(v12.deps, { batchSize: 1 });
      expect(first.rewrapped).toBeGreaterThan(0);
      expect(await versions()).toEqual((await versions()).map(() => 2));
      expect((await rewrapOrderKeys(v12.deps, { batchSize: 1 })).rewrapped).toBe(0);
      const audits = (await listAudit(v12.deps.db, { limit: 1000 })).entries.filter(
        (e) => e.action === 'keys.rewrapped',
      );
      expect(audits.reduce((n, e) => n + Number(e.details.count), 0)).toBe(first.rewrapped);
    } finally {
      await v12.close();
    }

    // No audio object was read-modified: same keys, same bytes.
    const objectsAfter = await Promise.all(
      (await v1.deps.blobs.list('recordings/')).map(async (k) => [k, (await v1.deps.blobs.get(k))!.toString('hex')]),
    );
    expect(objectsAfter).toEqual(objectsBefore);

    // A server with only KEK 2 starts and plays the old recording byte for byte.
    const v2 = await startTestVault('postgres+s3', { VAULT_KEKS: await fixedKeks([2]) }, { stores: v1.stores });
    try {
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
