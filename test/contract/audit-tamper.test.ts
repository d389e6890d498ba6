import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, listAudit, verifyAudit } from '../../src/audit/audit-log.js';
import type { Database } from '../../src/store/db/database.js';
import { DATABASE_BACKENDS } from '../helpers/databases.js';

/** Editing, deleting or reordering one row makes verify name the first broken entry. */
describe.each(DATABASE_BACKENDS)('audit chain tamper evidence on %s', (_name, open) => {
  let db: Database;
  let ids: string[];
  let cleanup: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await cleanup?.();
  });

  beforeEach(async () => {
    ({ db, cleanup } = await open());
    for (let i = 0; i < 6; i++) {
      await db.transaction((tx) =>
        appendAudit(tx, new Date(1_700_000_000_000 + i), {
          actorId: 'x',
          action: 'audit.verified',
          outcome: 'ok',
          details: { i },
        }),
      );
    }
    ids = (await listAudit(db, { limit: 100 })).entries.map((e) => e.id);
    expect(await verifyAudit(db)).toMatchObject({ ok: true, checked: 6, head: { id: ids.at(-1) } });
  });

  it('verifies entries with unicode, quotes, nesting and large ids after their round trip through jsonb', async () => {
    const details = {
      reason: 'Kundin sagt: „zu kurz“ — 😀 \u2028 "quoted" \\ back',
      nested: { z: [1, 2.5, null, true], a: 'é' },
      id: '"id":"x"',
    };
    const entry = await db.transaction((tx) =>
      appendAudit(tx, new Date(), {
        actorId: 'ü',
        action: 'audit.verified',
        outcome: 'ok',
        orderId: 'order-ü',
        details,
      }),
    );
    const [stored] = await db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE id = $1', [entry.id]);
    expect(stored?.hash).toBe(entry.hash);
    await db.query(`SELECT setval(pg_get_serial_sequence('audit_log', 'id'), 9007199254740000)`);
    await db.transaction((tx) =>
      appendAudit(tx, new Date(), { actorId: 'x', action: 'audit.verified', outcome: 'ok' }),
    );
    expect(await verifyAudit(db)).toMatchObject({ ok: true, checked: 8 });
  });

  it('detects an edited detail', async () => {
    await db.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [ids[2]]);
    expect(await verifyAudit(db)).toEqual({ ok: false, checked: 2, firstBrokenId: ids[2] });
  });

  it('detects an edited actor even when the row hash is recomputed naively', async () => {
    await db.query(`UPDATE audit_log SET actor_id = 'mallory' WHERE id = $1`, [ids[3]]);
    expect(await verifyAudit(db)).toMatchObject({ ok: false, firstBrokenId: ids[3] });
  });

  it('detects a deleted row at the entry after it', async () => {
    await db.query('DELETE FROM audit_log WHERE id = $1', [ids[1]]);
    expect(await verifyAudit(db)).toEqual({ ok: false, checked: 1, firstBrokenId: ids[2] });
  });

  it('detects two rows swapped', async () => {
    await db.query('UPDATE audit_log SET id = -1 WHERE id = $1', [ids[4]]);
    await db.query('UPDATE audit_log SET id = $1 WHERE id = $2', [ids[4], ids[3]]);
    await db.query('UPDATE audit_log SET id = $1 WHERE id = -1', [ids[3]]);
    expect(await verifyAudit(db)).toMatchObject({ ok: false, firstBrokenId: ids[3] });
  });
});
