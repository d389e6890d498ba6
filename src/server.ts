import cluster from 'node:cluster';
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { adminExists } from './domain/principals.js';
import { createLogger } from './logger.js';
import { closeGracefully, SHUTDOWN_DEADLINE_MS } from './shutdown.js';
import { openVault } from './vault.js';

/** A start that fails is logged like everything else: one JSON line (on stderr, written before the exit). */
function fatal(message: string): void {
  createLogger({ level: 'info', destination: pino.destination({ dest: 2, sync: true }) }).fatal(message);
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fatal(err.message);
    process.exit(2);
  }
}

/**
 * VAULT_WORKERS > 1: this process forks that many server processes sharing the
 * port (node:cluster). It first opens the vault once itself, so that the data
 * dir's generated keys, the migrations and the embedded PostgreSQL are made by
 * one process before any worker starts (the workers then use them); it keeps
 * no HTTP server. A worker that dies is replaced; one that dies before it ever
 * listened stops the whole server (a start that cannot succeed must not loop).
 */
async function primary(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const vault = await openVault(config, { logger, defaultMetrics: false });
  let stopping = false;
  const listened = new Set<number>();
  const stopAll = (exitCode: number) => {
    stopping = true;
    const running = Object.values(cluster.workers ?? {});
    const finish = () =>
      vault.close().then(
        () => process.exit(exitCode),
        (err: unknown) => {
          logger.error({ err }, 'closing the stores failed');
          process.exit(1);
        },
      );
    if (running.length === 0) return void finish();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) void finish();
    });
    for (const w of running) w?.process.kill('SIGTERM');
  };
  cluster.on('listening', (worker) => listened.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!listened.has(worker.id)) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'a server worker failed to start; stopping');
      return stopAll(1);
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'a server worker exited; starting another');
    cluster.fork();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();
  logger.info({ workers: config.workers, port: config.port }, `started ${config.workers} server workers`);
  process.once('SIGTERM', () => stopAll(0));
  process.once('SIGINT', () => stopAll(0));
}

async function main(): Promise<void> {
  const config = configOrExit();
  if (config.workers > 1 && cluster.isPrimary) return primary(config);
  const logger = createLogger({ level: config.logLevel });
  const vault = await openVault(config, { logger });
  const app = createApp({ ...vault, logger });
  const server: Server = app.listen(config.port, () => {
    const url = `http://localhost:${config.port}`;
    logger.info(
      {
        url,
        consoleUrl: `${url}/console`,
        database: config.databaseUrl ? 'postgres' : 'embedded postgres',
        storage: config.s3 ? 's3' : 'filesystem',
      },
      `visit vault listening on ${url} (console: ${url}/console)`,
    );
    adminExists(vault).then(
      (exists) => {
        if (!exists)
          logger.warn(
            'no admin exists yet: restart with VAULT_BOOTSTRAP_ADMIN_TOKEN set to a long random secret (openssl rand -hex 32) to create the first admin, whose token then creates every other principal',
          );
      },
      (err: unknown) => logger.error({ err }, 'could not check whether an admin exists'),
    );
  });
  const workers = vault.startWorkers();

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    let exitCode = 0;
    closeGracefully(server, {
      deadlineMs: SHUTDOWN_DEADLINE_MS,
      onDeadline: () => logger.warn('shutdown deadline reached: closing the remaining connections'),
    })
      .catch((err: unknown) => {
        logger.error({ err }, 'server close failed');
        exitCode = 1;
      })
      .then(() => workers.stop())
      .then(() => vault.close())
      .then(
        () => process.exit(exitCode),
        (err: unknown) => {
          logger.error({ err }, 'closing the stores failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  fatal(`visit vault failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
