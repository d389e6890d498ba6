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

async function main(): Promise<void> {
  const config = configOrExit();
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
