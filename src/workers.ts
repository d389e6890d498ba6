import { startSequencer } from './audit/sequencer.js';
import type { DomainDeps } from './domain/deps.js';
import { startSweeper } from './domain/sweeper.js';
import { startWebhookWorker } from './domain/webhooks.js';
import type { Logger } from './logger.js';

/**
 * The background work each vault server runs beside its HTTP server. Every
 * worker is safe to run on several servers sharing one database, and sets
 * `vault_worker_last_success_timestamp_seconds{worker="<its name>"}` after
 * each run that succeeds, so that docs/alerts.yml can page on a stalled one.
 */
export interface Workers {
  /** Stops every worker and waits for the work in hand to finish. */
  stop(): Promise<void>;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

type Vault = DomainDeps & { logger: Logger };

/** Every worker by the name its metrics carry. */
export const WORKERS = {
  sweeper: (vault: Vault): RunningWorker => startSweeper(vault, vault.logger),
  sequencer: (vault: Vault): RunningWorker => startSequencer(vault, vault.logger),
  webhooks: (vault: Vault): RunningWorker => startWebhookWorker(vault, vault.logger),
} satisfies Record<string, (vault: Vault) => RunningWorker>;

export type WorkerName = keyof typeof WORKERS;
export const WORKER_NAMES = Object.keys(WORKERS) as WorkerName[];

export function startWorkers(vault: Vault): Workers {
  const running = WORKER_NAMES.map((name) => WORKERS[name](vault));
  return {
    async stop() {
      const results = await Promise.allSettled(running.map((w) => w.stop()));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failures.length > 0) throw new AggregateError(failures, 'stopping the background workers failed');
    },
  };
}
