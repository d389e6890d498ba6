import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, appendAudits, listAudit } from '../../src/audit/audit-log.js';
import type { Database } from '../../src/store/db/database.js';
import { migrate } from '../../src/store/db/migrate.js';
import { insertOrder } from '../../src/store/db/orders.js';
import * as principals from '../../src/store/db/principals.js';
import * as recordings from '../../src/store/db/recordings.js';
import { DATABASE_BACKENDS } from '../helpers/databases.js';

/** The same repository behaviour on both database implementations. */
describe.each(DATABASE_BACKENDS)('database contract on %s', (_name, open) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  const at = new Date('2026-03-01T10:00:00.000Z');

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    await principals.insertPrincipal(db, { id: 'b1', name: 'B', department: 'field', roles: ['beautician'] }, at);
    await insertOrder(db, {
      orderId: 'o1',
      beauticianId: 'b1',
      customerId: 'c1',
      scheduledAt: at,
      publicKey: new Uint8Array(32).fill(7),
      createdAt: at,
    });
    await recordings.insertRecording(db, {
      id: 'r1',
      orderId: 'o1',
      mimeType: 'audio/ogg',
      sealedContentKey: new Uint8Array(80),
      createdAt: at,
    });
  });
  afterAll(async () => cleanup());

  it('migrating twice is a no-op', async () => {
    expect(await migrate(db)).toEqual([]);
  });

  it('rolls a failed transaction back', async () => {
    await expect(
      db.transaction(async (tx) => {
        await principals.insertPrincipal(tx, { id: 'ghost', name: 'G', department: 'x', roles: ['auditor'] }, at);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await principals.findPrincipal(db, 'ghost')).toBeNull();
  });

  it('stores roles as an array and revokes tokens with their principal', async () => {
    await principals.insertPrincipal(
      db,
      { id: 'a1', name: 'A', department: 'sec', roles: ['auditor', 'security_head'] },
      at,
    );
    await principals.insertToken(db, 'h1', 'a1', at);
    expect(await principals.findPrincipalByTokenHash(db, 'h1')).toEqual({
      id: 'a1',
      name: 'A',
      department: 'sec',
      roles: ['auditor', 'security_head'],
    });
    expect(await principals.revokePrincipal(db, 'a1', at)).toBe(true);
    expect(await principals.revokePrincipal(db, 'a1', at)).toBe(false);
    expect(await principals.findPrincipalByTokenHash(db, 'h1')).toBeNull();
  });

  it('round-trips bytes and timestamps', async () => {
    const rec = await recordings.findRecording(db, 'r1');
    expect(rec?.sealedContentKey).toEqual(new Uint8Array(80));
    expect(rec?.createdAt.toISOString()).toBe(at.toISOString());
    expect(rec?.storedBytes).toBe(0);
  });

  it('inserts a chunk once per seq and keeps the totals', async () => {
    const chunk = {
      recordingId: 'r1',
      seq: 0,
      sha256: 'aa',
      size: 100,
      plaintextSize: 59,
      objectKey: 'k0',
      storedAt: at,
    };
    expect(await recordings.insertChunks(db, [chunk])).toEqual(new Set(['r1/0']));
    // One statement for several rows: a taken seq (here, twice: stored before and repeated) is left alone.
    const stored = await recordings.insertChunks(db, [
      { ...chunk, sha256: 'bb', objectKey: 'k0b' },
      { ...chunk, seq: 1, sha256: 'cc', size: 50, objectKey: 'k1' },
      { ...chunk, seq: 1, sha256: 'dd', size: 70, objectKey: 'k1b' },
    ]);
    expect(stored).toEqual(new Set(['r1/1']));
    expect((await recordings.findChunk(db, 'r1', 0))?.sha256).toBe('aa');
    expect(
      await recordings.storedChunkHashes(db, [
        { recordingId: 'r1', seq: 1 },
        { recordingId: 'r1', seq: 2 },
      ]),
    ).toEqual(new Map([['r1/1', 'cc']]));
    const rec = await recordings.findRecording(db, 'r1');
    expect(rec).toMatchObject({ storedBytes: 150, storedChunks: 2 });
  });

  it('appends audit entries and lists them by order with paging', async () => {
    for (let i = 0; i < 5; i++) {
      await db.transaction((tx) =>
        appendAudit(tx, at, {
          actorId: 'b1',
          action: 'audit.verified',
          outcome: 'ok',
          orderId: i % 2 ? 'o1' : 'o2',
          details: { i },
        }),
      );
    }
    const page1 = await listAudit(db, { orderId: 'o2', limit: 2 });
    expect(page1.entries.map((e) => e.details.i)).toEqual([0, 2]);
    expect(page1.nextAfter).not.toBeNull();
    const page2 = await listAudit(db, { orderId: 'o2', limit: 2, afterId: Number(page1.nextAfter) });
    expect(page2.entries.map((e) => e.details.i)).toEqual([4]);
    expect(page2.nextAfter).toBeNull();
    const all = await listAudit(db, { limit: 100 });
    // Written without a log-wide lock: no index until the sequencer integrates them.
    expect(all.entries.map((e) => e.index)).toEqual(all.entries.map(() => null));
  });

  it('appends several audit entries in one statement, in the order given', async () => {
    const before = (await listAudit(db, { orderId: 'o9', limit: 100 })).entries.length;
    await db.transaction((tx) =>
      appendAudits(
        tx,
        at,
        [3, 1, 2].map((n) => ({
          actorId: `b${n}`,
          action: 'chunk.stored' as const,
          outcome: 'ok' as const,
          orderId: 'o9',
          recordingId: n === 1 ? null : 'r1',
          details: { seq: n, note: 'é "quoted"' },
        })),
      ),
    );
    const { entries } = await listAudit(db, { orderId: 'o9', limit: 100 });
    expect(entries.slice(before).map((e) => [e.actorId, e.recordingId, e.details, e.at])).toEqual(
      [3, 1, 2].map((n) => [`b${n}`, n === 1 ? null : 'r1', { seq: n, note: 'é "quoted"' }, at.toISOString()]),
    );
  });
});
