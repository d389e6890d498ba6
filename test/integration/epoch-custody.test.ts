import { rename } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { PhoneClient } from '../../src/client/phone-client.js';
import { getSodium } from '../../src/crypto/sodium.js';
import { EpochKeyGoneError, epochKeyForWrapping } from '../../src/domain/epoch-keyring.js';
import { destroyDueEpochKeys } from '../../src/domain/epoch-shredder.js';
import { epochContaining } from '../../src/domain/epochs.js';
import { openOrderSecretKey } from '../../src/domain/order-key-epochs.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { newVisit } from '../helpers/actors.js';
import { epochOf, epochRow, shredReceipts } from '../helpers/epochs.js';
import { uploadSealed } from '../helpers/recordings.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WINDOW = 10 * DAY;
const dayOf = (t: Date | number) => epochContaining(new Date(t), DAY).id;

/** Each order's key lives under the epoch its retention ends in, and follows it (SPEC Crypto, epoch keys). */
describe('order keys follow their retention (postgres+fs)', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_BACKUP_WINDOW: '10d' });
  });
  afterAll(async () => vault?.close());

  const movesOf = async (orderId: string) =>
    (await listAudit(vault.deps.db, { orderId, limit: 200 })).entries
      .filter((e) => e.action === 'order.key_moved')
      .map((e) => e.details);

  it('goes under the scheduled day plus retention at registration, and moves when its recording is sealed', async () => {
    const scheduledAt = new Date(vault.clock.now().getTime() + 30 * DAY);
    const visit = await newVisit(vault, { scheduledAt: scheduledAt.toISOString() });
    const registered = dayOf(scheduledAt.getTime() + 7 * DAY);
    expect(await epochOf(vault, visit.orderId)).toBe(registered);
    const [entry] = (await listAudit(vault.deps.db, { orderId: visit.orderId, limit: 10 })).entries.filter(
      (e) => e.action === 'order.registered',
    );
    expect(entry?.details.epoch).toBe(registered);

    // The visit happens early: sealed now, so retention ends 7 days from now.
    await uploadSealed(vault, visit);
    const sealed = dayOf(vault.clock.now().getTime() + 7 * DAY);
    expect(await epochOf(vault, visit.orderId)).toBe(sealed);
    expect(await movesOf(visit.orderId)).toEqual([{ from: registered, to: sealed, cause: 'recording.sealed' }]);
  });

  it('moves when the sweeper marks a silent recording incomplete', async () => {
    const scheduledAt = new Date(vault.clock.now().getTime() + 30 * DAY);
    const visit = await newVisit(vault, { scheduledAt: scheduledAt.toISOString() });
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    await upload.uploadMissing(upload.encrypt([new Uint8Array(100).fill(1)]).slice(0, 1));
    const lastChunk = vault.clock.now();
    vault.clock.advance(6 * HOUR + MINUTE);
    expect((await runSweep(vault.deps)).incomplete).toBe(1);
    const to = dayOf(lastChunk.getTime() + 7 * DAY);
    expect(await epochOf(vault, visit.orderId)).toBe(to);
    expect(await movesOf(visit.orderId)).toEqual([
      { from: dayOf(scheduledAt.getTime() + 7 * DAY), to, cause: 'recording.incomplete' },
    ]);
  });

  it('moves when an objection stops a recording under way', async () => {
    const scheduledAt = new Date(vault.clock.now().getTime() + 30 * DAY);
    const visit = await newVisit(vault, { scheduledAt: scheduledAt.toISOString() });
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    await upload.uploadMissing(upload.encrypt([new Uint8Array(100).fill(1)]).slice(0, 1));
    const lastChunk = vault.clock.now();
    vault.clock.advance(10 * MINUTE);
    await request(vault.baseUrl)
      .post(`/v1/orders/${visit.orderId}/consents`)
      .set('authorization', `Bearer ${visit.platformToken}`)
      .send({ party: 'customer', decision: 'object', mode: 'explicit', appVersion: 'test' })
      .expect(201);
    const to = dayOf(lastChunk.getTime() + 7 * DAY);
    expect(await epochOf(vault, visit.orderId)).toBe(to);
    expect(await movesOf(visit.orderId)).toEqual([
      { from: dayOf(scheduledAt.getTime() + 7 * DAY), to, cause: 'recording.incomplete' },
    ]);
  });

  it('leaves an epoch that has ended when it still lives (no recording yet), so that epoch can be destroyed', async () => {
    const visit = await newVisit(vault); // scheduled in the past: a late visit
    const first = (await epochOf(vault, visit.orderId))!;
    const ends = (await epochRow(vault, first))!.ends_at!;
    vault.clock.set(new Date(ends.getTime() + MINUTE));
    expect((await runSweep(vault.deps)).orderKeysMoved).toBeGreaterThanOrEqual(1);
    const next = (await epochOf(vault, visit.orderId))!;
    expect(next).toBe(dayOf(vault.clock.now().getTime() + 7 * DAY));
    expect((await movesOf(visit.orderId)).at(-1)).toEqual({ from: first, to: next, cause: 'epoch.ended' });

    vault.clock.set(new Date(ends.getTime() + WINDOW));
    expect((await runSweep(vault.deps)).epochKeysDestroyed).toBeGreaterThanOrEqual(1);
    expect((await shredReceipts(vault)).find((r) => r.details.epoch === first)?.details.orders).toContain(
      visit.orderId,
    );
    // Its key still opens, under the epoch it moved to: a content key the phone seals to it opens.
    const sodium = await getSodium();
    const secretKey = await openOrderSecretKey(vault.deps, visit.orderId);
    const contentKey = sodium.randombytes_buf(32);
    const sealedKey = sodium.crypto_box_seal(contentKey, Buffer.from(visit.publicKey, 'base64url'));
    expect(sodium.crypto_box_seal_open(sealedKey, Buffer.from(visit.publicKey, 'base64url'), secretKey)).toEqual(
      contentKey,
    );
  });

  it('keeps an epoch key while any order is wrapped under it, however long ago it ended', async () => {
    const visit = await newVisit(vault);
    await uploadSealed(vault, visit);
    const epoch = (await epochOf(vault, visit.orderId))!;
    const ends = (await epochRow(vault, epoch))!.ends_at!;
    vault.clock.set(new Date(ends.getTime() + WINDOW + 30 * DAY));
    // Destruction alone, without the expiry and the move that run before it in a sweep.
    await destroyDueEpochKeys(vault.deps);
    expect(await vault.deps.epochKeys.store.list()).toContain(epoch);
    expect((await epochRow(vault, epoch))?.destroyed_at).toBeNull();
    (await openOrderSecretKey(vault.deps, visit.orderId)).fill(0);

    // The sweep expires it and shreds its live key; then the epoch is left empty and goes.
    const report = await runSweep(vault.deps);
    expect(report.ordersShredded).toBeGreaterThanOrEqual(1);
    expect(await vault.deps.epochKeys.store.list()).not.toContain(epoch);

    // Nothing can be wrapped under a destroyed epoch again.
    const ref = epochContaining(new Date(epoch), DAY);
    await expect(
      vault.deps.db.transaction((tx) => epochKeyForWrapping(vault.deps, tx, ref, vault.clock.now())),
    ).rejects.toThrow(EpochKeyGoneError);
  });
});

describe('the epoch key store at start and in readiness (postgres+fs)', () => {
  it('warns at start when epoch keys are kept inside the data directory', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) =>
      lines.push(
        ...d
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0),
      ),
    );
    const outside = await startTestVault('postgres+fs', {}, { logStream: stream });
    try {
      expect(lines.filter((l) => l.includes('inside the data directory'))).toEqual([]);
    } finally {
      await outside.close();
    }
    const inside = await startTestVault('postgres+fs', { VAULT_EPOCH_KEY_DIR: '' }, { logStream: stream });
    try {
      expect(inside.config.epochKeys).toEqual({ kind: 'dir', dir: path.join(inside.config.dataDir, 'epoch-keys') });
      const warned = lines.filter((l) => l.includes('inside the data directory'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({ level: 40 });
      expect(warned[0]).toContain(path.join(inside.config.dataDir, 'epoch-keys'));
    } finally {
      await inside.close();
    }
  });

  it('answers 503 from /readyz while the epoch key store cannot be reached', async () => {
    const vault = await startTestVault('postgres+fs');
    try {
      expect((await request(vault.server).get('/readyz')).body.checks).toEqual({
        database: 'ok',
        storage: 'ok',
        epochKeys: 'ok',
      });
      const dir = vault.stores.env.VAULT_EPOCH_KEY_DIR!;
      await rename(dir, `${dir}.away`);
      const down = await request(vault.server).get('/readyz');
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
      expect(down.body).toEqual({
        status: 'unavailable',
        checks: { database: 'ok', storage: 'ok', epochKeys: 'unavailable' },
      });
      await rename(`${dir}.away`, dir);
      expect((await request(vault.server).get('/readyz')).status).toBe(200);
    } finally {
      await vault.close();
    }
  });
});
