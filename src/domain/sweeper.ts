import type { Logger } from 'pino';
import { appendAudit } from '../audit/audit-log.js';
import { mapLimit } from '../concurrency.js';
import { addMs } from '../durations.js';
import type { Queryable } from '../store/db/database.js';
import * as retention from '../store/db/retention.js';
import { expireStaleRequests, warnExpiringRequests } from './access-requests.js';
import type { DomainDeps } from './deps.js';
import { shredEpochKeys } from './epoch-shredder.js';
import { auditKeyMoves, moveOrderKeysIfNeeded, moveOrdersOutOfEndedEpochs } from './order-key-epochs.js';
import { emitEvent } from './webhooks.js';

/**
 * The retention sweeper (SPEC step 8). Each batch is one transaction holding
 * its rows' locks: objects are deleted first, then the rows are marked and
 * audited, so a crash between the two leaves rows that the next run finishes
 * (deleting what is already gone is fine).
 */
export interface SweepReport {
  incomplete: number;
  expired: number;
  objectsDeleted: number;
  ordersShredded: number;
  requestsExpired: number;
  /** pending requests whose approvers were warned (access_request.expiring) */
  requestsWarned: number;
  /** order keys moved out of epochs that had ended */
  orderKeysMoved: number;
  epochKeysDestroyed: number;
  holdKeysDestroyed: number;
}

const BATCH = 50;
// Object deletions in flight at once within a batch: storage round trips dominate expiry.
const DELETE_PARALLELISM = 8;
const SWEEPER_ACTOR = 'system:sweeper';

async function markSilentIncomplete(deps: DomainDeps, report: SweepReport): Promise<void> {
  for (;;) {
    const now = deps.clock.now();
    const cutoff = addMs(now, -deps.config.incompleteAfterMs);
    const n = await deps.db.transaction(async (tx) => {
      const silent = await retention.claimSilent(tx, cutoff, BATCH);
      // Kept like a sealed recording, counted from its last chunk.
      const retainUntilOf = (r: { lastActivity: Date }) => addMs(r.lastActivity, deps.config.retentionMs);
      for (const r of silent) await retention.markIncomplete(tx, r.id, now, retainUntilOf(r));
      const { moves } = await moveOrderKeysIfNeeded(
        deps,
        tx,
        silent.map((r) => r.orderId),
        'recording.incomplete',
      );
      await auditKeyMoves(tx, now, moves);
      for (const r of silent) {
        const retainUntil = retainUntilOf(r);
        await appendAudit(tx, now, {
          actorId: SWEEPER_ACTOR,
          action: 'recording.incomplete',
          outcome: 'ok',
          orderId: r.orderId,
          recordingId: r.id,
          details: { lastActivity: r.lastActivity.toISOString(), retainUntil: retainUntil.toISOString() },
        });
      }
      return silent.length;
    });
    report.incomplete += n;
    deps.metrics.recordingsIncomplete.inc(n);
    if (n < BATCH) return;
  }
}

/** Destroys the claimed recordings (objects first, then rows, key shreds and audit entries, in that order), in `tx`. */
export async function expireClaimed(
  deps: DomainDeps,
  tx: Queryable,
  due: retention.Claimed[],
  now: Date,
): Promise<{ objectsDeleted: number; ordersShredded: number }> {
  const counts = await mapLimit(due, DELETE_PARALLELISM, (r) => deps.blobs.deletePrefix(`recordings/${r.id}/`));
  const deleted = new Map(due.map((r, i) => [r.id, counts[i] ?? 0]));
  for (const r of due) await retention.markExpired(tx, r.id, now);
  const shredded: string[] = [];
  for (const orderId of new Set(due.map((r) => r.orderId))) {
    if (await retention.shredOrderKeyIfDone(tx, orderId, now)) shredded.push(orderId);
  }
  for (const r of due) {
    await appendAudit(tx, now, {
      actorId: SWEEPER_ACTOR,
      action: 'recording.expired',
      outcome: 'ok',
      orderId: r.orderId,
      recordingId: r.id,
      details: { objectsDeleted: deleted.get(r.id) ?? 0 },
    });
    await emitEvent(tx, deps, now, 'recording.expired', {
      recordingId: r.id,
      orderId: r.orderId,
      status: 'expired',
      expiredAt: now.toISOString(),
    });
  }
  for (const orderId of shredded) {
    await appendAudit(tx, now, {
      actorId: SWEEPER_ACTOR,
      action: 'order.keys_shredded',
      outcome: 'ok',
      orderId,
      details: {},
    });
  }
  deps.metrics.recordingsExpired.inc(due.length);
  return { objectsDeleted: [...deleted.values()].reduce((a, b) => a + b, 0), ordersShredded: shredded.length };
}

async function expireRecordings(deps: DomainDeps, report: SweepReport): Promise<void> {
  for (;;) {
    const now = deps.clock.now();
    const n = await deps.db.transaction(async (tx) => {
      const due = await retention.claimExpirable(tx, now, BATCH);
      const done = await expireClaimed(deps, tx, due, now);
      report.objectsDeleted += done.objectsDeleted;
      report.ordersShredded += done.ordersShredded;
      return due.length;
    });
    report.expired += n;
    if (n < BATCH) return;
  }
}

export async function runSweep(deps: DomainDeps): Promise<SweepReport> {
  const report: SweepReport = {
    incomplete: 0,
    expired: 0,
    objectsDeleted: 0,
    ordersShredded: 0,
    requestsExpired: 0,
    requestsWarned: 0,
    orderKeysMoved: 0,
    epochKeysDestroyed: 0,
    holdKeysDestroyed: 0,
  };
  report.requestsExpired = await expireStaleRequests(deps);
  report.requestsWarned = await warnExpiringRequests(deps);
  await markSilentIncomplete(deps, report);
  await expireRecordings(deps, report);
  // Epoch keys last: orders expired above no longer hold their epochs, and those that live on leave ended ones.
  report.orderKeysMoved = (await moveOrdersOutOfEndedEpochs(deps)).moved;
  const shredded = await shredEpochKeys(deps);
  report.epochKeysDestroyed = shredded.epochKeysDestroyed;
  report.holdKeysDestroyed = shredded.holdKeysDestroyed;
  return report;
}

/** Runs at start and every VAULT_SWEEP_INTERVAL, never overlapping itself; failures are logged and counted, never fatal. */
export function startSweeper(deps: DomainDeps, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = runSweep(deps)
      .then((report) => {
        deps.metrics.sweeperRuns.inc({ outcome: 'ok' });
        // Wall-clock time, not deps.clock: Prometheus compares it with its own time() (docs/alerts.yml).
        deps.metrics.workerLastSuccess.setToCurrentTime({ worker: 'sweeper' });
        if (
          report.expired +
            report.incomplete +
            report.requestsExpired +
            report.requestsWarned +
            report.orderKeysMoved +
            report.epochKeysDestroyed +
            report.holdKeysDestroyed >
          0
        )
          logger.info({ sweep: report }, 'retention sweep');
      })
      .catch((err: unknown) => {
        deps.metrics.sweeperRuns.inc({ outcome: 'failed' });
        logger.error({ err }, 'retention sweep failed; retrying at the next interval');
      })
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, deps.config.sweepIntervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
