import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from '../../src/audit/audit-log.js';
import { type SequencerDeps, sequence } from '../../src/audit/sequencer.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/clock.js';
import { logKeyFromSeed } from '../../src/crypto/log-key.js';
import { type CheckpointStore, openCheckpointStore } from '../../src/store/checkpoint-store.js';
import type { Database } from '../../src/store/db/database.js';
import { DATABASE_BACKENDS } from '../helpers/databases.js';
import { TEST_LOG_SEED } from '../helpers/vault.js';

/**
 * Whoever can write the database cannot hide an edit, a cut or a rewrite
 * from the signed checkpoints, least of all from the published ones.
 */
describe.each(DATABASE_BACKENDS)('audit log tamper evidence on %s', (_name, open) => {
  let db: Database;
  let ids: string[];
  let cleanup: (() => Promise<void>) | undefined;
  let dirs: string[];
  let deps: SequencerDeps;

  const checkpointDir = async (): Promise<CheckpointStore> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vault-checkpoints-'));
    dirs.push(dir);
    return openCheckpointStore({ checkpoints: { kind: 'dir', dir } });
  };
  const append = (i: number) =>
    db.transaction((tx) =>
      appendAudit(tx, new Date(1_700_000_000_000 + i), {
        actorId: 'x',
        action: 'audit.verified',
        outcome: 'ok',
        details: { i },
      }),
    );

  afterEach(async () => {
    await deps?.checkpoints.close();
    await cleanup?.();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dirs = [];
    ({ db, cleanup } = await open());
    deps = {
      config: { auditMaxDelayMs: 1000 },
      db,
      logKey: await logKeyFromSeed('test.example/audit', TEST_LOG_SEED),
      clock: new ManualClock(new Date('2026-12-01T00:00:00Z')),
      checkpoints: await checkpointDir(),
    };
    for (let i = 0; i < 6; i++) await append(i);
    ids = (await listAudit(db, { limit: 100 })).entries.map((e) => e.id);
    await sequence(deps, { wait: true });
    expect(await verifyAudit(deps)).toMatchObject({ ok: true, checked: 6, treeSize: 6 });
  });

  it('verifies entries with unicode, quotes, nesting and large ids after their round trip through jsonb', async () => {
    const details = {
      reason: 'Kundin sagt: „zu kurz“ — 😀 \u2028 "quoted" \\ back',
      nested: { z: [1, 2.5, null, true], a: 'é' },
      id: '"id":"x"',
    };
    await db.transaction((tx) =>
      appendAudit(tx, new Date(), {
        actorId: 'ü',
        action: 'audit.verified',
        outcome: 'ok',
        orderId: 'order-ü',
        details,
      }),
    );
    await db.query(`SELECT setval(pg_get_serial_sequence('audit_log', 'id'), 9007199254740000)`);
    await db.transaction((tx) =>
      appendAudit(tx, new Date(), { actorId: 'x', action: 'audit.verified', outcome: 'ok' }),
    );
    await sequence(deps, { wait: true });
    expect(await verifyAudit(deps)).toMatchObject({ ok: true, checked: 8, treeSize: 8 });
  });

  it('detects an edited detail', async () => {
    await db.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [ids[2]]);
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, checked: 6, firstBrokenId: ids[2] });
  });

  it('detects an edited actor even when its stored leaf hash is wiped', async () => {
    await db.query(`UPDATE audit_log SET actor_id = 'mallory' WHERE id = $1`, [ids[3]]);
    await db.query('UPDATE audit_log SET leaf_hash = NULL WHERE id = $1', [ids[3]]);
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, firstBrokenId: ids[3] });
  });

  it('detects the newest entries deleted, with or without their checkpoints', async () => {
    await db.query('DELETE FROM audit_log WHERE id >= $1', [ids[4]]);
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, checked: 4, treeSize: 6 });
    // Cutting the database's checkpoints and tree back too: the published checkpoint still says 6.
    await db.query('DELETE FROM audit_checkpoints WHERE tree_size > 4');
    await db.query('DELETE FROM audit_tree WHERE idx * (2 ^ level) + (2 ^ level) > 4');
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, checked: 4, treeSize: 6 });
    // And the sequencer refuses to sign over the cut.
    await append(7);
    await expect(sequence(deps, { wait: true })).rejects.toMatchObject({ code: 'audit_log_integrity' });
  });

  it('detects two entries swapped', async () => {
    await db.query('UPDATE audit_log SET leaf_index = -1 WHERE id = $1', [ids[4]]);
    await db.query('UPDATE audit_log SET leaf_index = 4 WHERE id = $1', [ids[3]]);
    await db.query('UPDATE audit_log SET leaf_index = 3 WHERE id = $1', [ids[4]]);
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, firstBrokenId: ids[4] });
  });

  it('detects the whole log rewritten and re-signed consistently, against the published checkpoint', async () => {
    // Someone holding the database and even the log key rewrites an entry and rebuilds everything from it,
    // signing with a sequencer of their own that does not see the published checkpoints.
    await db.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [ids[2]]);
    await db.query('DELETE FROM audit_checkpoints');
    await db.query('DELETE FROM audit_tree');
    await db.query('UPDATE audit_log SET leaf_index = NULL, leaf_hash = NULL');
    await sequence({ ...deps, checkpoints: await checkpointDir() }, { wait: true });
    // Against its own database it is consistent; against what was published it is not.
    const rewritten = await verifyAudit({ ...deps, checkpoints: await checkpointDir() });
    expect(rewritten).toMatchObject({ ok: true, treeSize: 6 });
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, treeSize: 6 });
    expect((await verifyAudit(deps)).reason).toMatch(/signed root/);
    // The real sequencer, which reads the published checkpoint first, refuses to sign on top of the rewrite.
    await append(8);
    await expect(sequence(deps, { wait: true })).rejects.toMatchObject({ code: 'audit_log_integrity' });
  });

  it('refuses to sign when the stored tree no longer matches the newest checkpoint', async () => {
    await db.query(`UPDATE audit_tree SET hash = decode(repeat('00', 32), 'hex') WHERE level = 1 AND idx = 2`);
    await append(9);
    await expect(sequence(deps, { wait: true })).rejects.toMatchObject({ code: 'audit_log_integrity' });
    expect(await verifyAudit(deps)).toMatchObject({ ok: false, reason: expect.stringMatching(/stored tree/) });
  });

  it('sequences an entry that commits after a newer one, with no gap and no index given twice', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let earlyId!: string;
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => {
      inserted = r;
    });
    const slow = db.transaction(async (tx) => {
      earlyId = (await appendAudit(tx, new Date(), { actorId: 'slow', action: 'audit.verified', outcome: 'ok' })).id;
      inserted();
      await gate;
    });
    await insertedP;
    await append(10); // a higher id, committed first
    await sequence(deps, { wait: true });
    release();
    await slow;
    await sequence(deps, { wait: true });
    const rows = await db.query<{ id: string; leaf_index: number }>(
      'SELECT id::text AS id, leaf_index FROM audit_log ORDER BY leaf_index',
    );
    expect(rows.map((r) => r.leaf_index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.at(-1)?.id).toBe(earlyId);
    expect(Number(earlyId)).toBeLessThan(Number(rows.at(-2)?.id));
    expect(await verifyAudit(deps)).toMatchObject({ ok: true, checked: 8 });
  });
});
