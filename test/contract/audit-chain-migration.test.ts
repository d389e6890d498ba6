import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { recordChainVerdict } from '../../src/audit/chain-migration.js';
import { canonicalJson } from '../../src/json.js';
import type { Database } from '../../src/store/db/database.js';
import { DATABASE_BACKENDS } from '../helpers/databases.js';

/** Rows as the hash-chained log (before migration 060) wrote them: prev_hash and hash set. */
async function writeOldChain(db: Database, n: number): Promise<string[]> {
  let prev = '0'.repeat(64);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(1_700_000_000_000 + i);
    const [row] = await db.query<{ id: string }>(
      `INSERT INTO audit_log (at, actor_id, action, outcome, details) VALUES ($1, 'x', 'audit.verified', 'ok', $2)
       RETURNING id::text AS id`,
      [at, JSON.stringify({ i })],
    );
    const id = row!.id;
    const content = canonicalJson({
      id,
      at: at.toISOString(),
      actorId: 'x',
      action: 'audit.verified',
      outcome: 'ok',
      orderId: null,
      recordingId: null,
      details: { i },
    });
    const hash = createHash('sha256').update(prev).update('\n').update(content).digest('hex');
    await db.query('UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1', [id, prev, hash]);
    prev = hash;
    ids.push(id);
  }
  return ids;
}

describe.each(DATABASE_BACKENDS)('the hash chain becomes the first leaves of the tree on %s', (_name, open) => {
  let db: Database;
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
  });
  afterEach(async () => cleanup?.());

  it("records the old chain's verdict once, as an entry of its own", async () => {
    const ids = await writeOldChain(db, 4);
    expect(await recordChainVerdict(db, new Date())).toMatchObject({ ok: true, checked: 4, entries: 4 });
    expect(await recordChainVerdict(db, new Date())).toBeNull();
    const entries = (await listAudit(db, { limit: 100 })).entries;
    expect(entries.map((e) => e.id).slice(0, 4)).toEqual(ids);
    expect(entries.filter((e) => e.action === 'audit.chain_migrated')).toHaveLength(1);
  });

  it('records a broken chain as failed, naming the first broken entry', async () => {
    const ids = await writeOldChain(db, 4);
    await db.query(`UPDATE audit_log SET details = '{"i": 9}' WHERE id = $1`, [ids[2]]);
    expect(await recordChainVerdict(db, new Date())).toMatchObject({ ok: false, checked: 2, firstBrokenId: ids[2] });
    const [entry] = (await listAudit(db, { limit: 100 })).entries.filter((e) => e.action === 'audit.chain_migrated');
    expect(entry?.outcome).toBe('failed');
  });

  it('does nothing on a log that never was a chain', async () => {
    expect(await recordChainVerdict(db, new Date())).toBeNull();
  });
});
