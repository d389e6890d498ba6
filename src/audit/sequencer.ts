import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { LogKey } from '../crypto/log-key.js';
import { consistencyProof, type Hash, treeRoot, verifyConsistency } from '../crypto/merkle.js';
import type { Metrics } from '../metrics.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { Connection, Database, Queryable } from '../store/db/database.js';
import { type AuditRow, auditLeafHash, toEntry } from './audit-log.js';
import { openCheckpoint, signCheckpoint } from './checkpoint.js';
import { frontierRefs, growTree, sourceOf } from './tree-growth.js';
import { overStoredTree, readSubtrees, treeIntegrity, writeSubtrees } from './tree-store.js';

/**
 * @module
 * The sequencer: integrates committed, unsequenced audit entries into the
 * Merkle tree, in batches, and signs a checkpoint per batch. Every server runs
 * one; the sequencing lease (a session advisory lock, taken by the sequencer
 * only, never by a writer) lets one at a time work while the others wait.
 *
 * Entries are taken in id order among those committed and not yet sequenced
 * (`leaf_index IS NULL`), so an entry whose transaction commits after a newer
 * id's still gets its place in the next batch. Before signing, the new tree
 * is proven consistent with the newest stored checkpoint, and at each lease
 * with the newest published one: the log never signs a fork or a rollback.
 */
export interface SequencerDeps {
  config: Pick<Config, 'auditMaxDelayMs'>;
  db: Database;
  logKey: LogKey;
  clock: Clock;
  checkpoints: CheckpointStore;
}

export interface StoredCheckpoint {
  size: number;
  rootHash: Hash;
  note: string;
}

const SEQUENCER_LEASE = 7_042_003;
const BATCH = 2000;

export async function newestCheckpoint(db: Queryable): Promise<StoredCheckpoint | null> {
  const [row] = await db.query<{ tree_size: number; root_hash: Buffer; note: string }>(
    'SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1',
  );
  return row ? { size: row.tree_size, rootHash: row.root_hash, note: row.note } : null;
}

/** One batch inside the lease: index, hash, store subtrees, check, sign. Returns how many entries it added. */
async function integrateBatch(conn: Connection, deps: SequencerDeps): Promise<number> {
  return conn.transaction(async (tx) => {
    const last = await newestCheckpoint(tx);
    const oldSize = last?.size ?? 0;
    const rows = await tx.query<AuditRow>('SELECT * FROM audit_log WHERE leaf_index IS NULL ORDER BY id LIMIT $1', [
      BATCH,
    ]);
    if (rows.length === 0 && last) return 0;
    const [{ max } = { max: null }] = await tx.query<{ max: number | null }>(
      'SELECT max(leaf_index) AS max FROM audit_log',
    );
    if ((max ?? -1) !== oldSize - 1)
      throw treeIntegrity(`the newest checkpoint covers ${oldSize} entries but ${(max ?? -1) + 1} are sequenced`);
    const refs = frontierRefs(oldSize);
    const frontier = await readSubtrees(tx, refs);
    if (frontier.length !== refs.length) throw treeIntegrity('the stored audit tree lacks part of its frontier');
    if (last && !treeRoot(sourceOf(frontier), oldSize).equals(last.rootHash))
      throw treeIntegrity('the stored audit tree does not match the newest signed checkpoint');
    const leaves = rows.map((r) => auditLeafHash(toEntry(r)));
    const created = growTree(frontier, oldSize, leaves);
    const newSize = oldSize + rows.length;
    const newRoot = treeRoot(sourceOf([...frontier, ...created]), newSize);
    if (last) {
      const proof = await overStoredTree(tx, (s) => consistencyProof(s, oldSize, newSize), [...frontier, ...created]);
      if (!verifyConsistency(oldSize, newSize, last.rootHash, newRoot, proof))
        throw treeIntegrity('refusing to sign a checkpoint inconsistent with the newest one');
    }
    if (rows.length > 0) {
      await tx.query(
        `UPDATE audit_log SET leaf_index = v.i, leaf_hash = v.h
           FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS v(id, i, h) WHERE audit_log.id = v.id`,
        [rows.map((r) => r.id), rows.map((_, i) => oldSize + i), leaves],
      );
      await writeSubtrees(tx, created);
    }
    await tx.query('INSERT INTO audit_checkpoints (tree_size, root_hash, note, signed_at) VALUES ($1, $2, $3, $4)', [
      newSize,
      newRoot,
      signCheckpoint(deps.logKey, newSize, newRoot),
      deps.clock.now(),
    ]);
    return rows.length;
  });
}

/** The newest published checkpoint must be a prefix of the stored tree: else the database was cut back or forked. */
async function checkAgainstPublished(conn: Connection, deps: SequencerDeps): Promise<void> {
  const note = await deps.checkpoints.latest();
  if (note === null) return;
  const published = await openCheckpoint(note, { name: deps.logKey.origin, publicKey: deps.logKey.publicKey });
  if (!published.ok) throw treeIntegrity(`the published checkpoint does not verify: ${published.reason}`);
  const last = await newestCheckpoint(conn);
  const size = last?.size ?? 0;
  if (published.size > size)
    throw treeIntegrity(`the published checkpoint covers ${published.size} entries, the database only ${size}`);
  const root = await overStoredTree(conn, (s) => treeRoot(s, published.size));
  if (!root.equals(published.rootHash))
    throw treeIntegrity('the stored audit tree forks from the published checkpoint');
}

async function publishPending(conn: Connection, deps: SequencerDeps): Promise<void> {
  const pending = await conn.query<{ tree_size: number; note: string }>(
    'SELECT tree_size, note FROM audit_checkpoints WHERE published_at IS NULL ORDER BY tree_size',
  );
  for (const p of pending) {
    await deps.checkpoints.publish(p.tree_size, p.note);
    await conn.query('UPDATE audit_checkpoints SET published_at = $2 WHERE tree_size = $1', [
      p.tree_size,
      deps.clock.now(),
    ]);
  }
}

export interface SequenceReport {
  /** false when another server held the lease */
  leased: boolean;
  added: number;
}

/**
 * Takes the lease (waiting for it when `wait`), integrates every committed
 * entry, publishes every checkpoint not yet published, and gives the lease back.
 */
export async function sequence(deps: SequencerDeps, options: { wait: boolean }): Promise<SequenceReport> {
  if (!options.wait) {
    // Idle servers ask one cheap question (a partial index) instead of taking the lease.
    const [work] = await deps.db.query<{ due: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM audit_log WHERE leaf_index IS NULL)
           OR EXISTS (SELECT 1 FROM audit_checkpoints WHERE published_at IS NULL)
           OR NOT EXISTS (SELECT 1 FROM audit_checkpoints) AS due`,
    );
    if (!work?.due) return { leased: false, added: 0 };
  }
  return deps.db.withConnection(async (conn) => {
    if (options.wait) await conn.query('SELECT pg_advisory_lock($1)', [SEQUENCER_LEASE]);
    else {
      const [got] = await conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [SEQUENCER_LEASE]);
      if (!got?.ok) return { leased: false, added: 0 };
    }
    await checkAgainstPublished(conn, deps);
    let added = 0;
    for (;;) {
      const n = await integrateBatch(conn, deps);
      added += n;
      if (n < BATCH) break;
    }
    await publishPending(conn, deps);
    await conn.query('SELECT pg_advisory_unlock($1)', [SEQUENCER_LEASE]);
    return { leased: true, added };
  });
}

/** The background sequencer: a pass every quarter of VAULT_AUDIT_MAX_DELAY, so entries are signed within it. */
export function startSequencer(
  deps: SequencerDeps & { metrics: Pick<Metrics, 'workerLastSuccess'> },
  logger: Logger,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = sequence(deps, { wait: false })
      .then((report) => {
        // A pass that found another server holding the lease, or nothing to do, succeeded too.
        deps.metrics.workerLastSuccess.setToCurrentTime({ worker: 'sequencer' });
        if (report.added > 0) logger.debug({ sequenced: report.added }, 'audit entries sequenced');
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'audit sequencing failed; retrying at the next tick');
      })
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, Math.max(10, Math.floor(deps.config.auditMaxDelayMs / 4)));
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
