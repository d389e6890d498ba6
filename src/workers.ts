import type { DomainDeps } from './domain/deps.js';
import { startSweeper } from './domain/sweeper.js';
import type { Logger } from './logger.js';

/**
 * The background work each vault server runs beside its HTTP server. Every
 * worker is safe to run on several servers sharing one database.
 */
export interface Workers {
  /** Stops every worker and waits for the work in hand to finish. */
  stop(): Promise<void>;
}

export function startWorkers(vault: DomainDeps & { logger: Logger }): Workers {
  const running = [startSweeper(vault, vault.logger)];
  return {
    async stop() {
      const results = await Promise.allSettled(running.map((w) => w.stop()));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failures.length > 0) throw new AggregateError(failures, 'stopping the background workers failed');
    },
  };
}
