import os from 'node:os';
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openVault } from '../vault.js';
import { registerAuditCommands } from './audit.js';
import type { CliContext } from './context.js';
import { registerEvidenceCommands } from './evidence.js';
import { registerKeysCommands } from './keys.js';
import { registerPrincipalCommands } from './principals.js';
import { registerRecordingCommands } from './recordings.js';
import { registerSignOffCommands } from './sign-off.js';

/** `npm run vault -- <command>`: the same config (environment) and stores as the server. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('vault').description('Visit Vault administration').showHelpAfterError();
  for (const register of [
    registerPrincipalCommands,
    registerKeysCommands,
    registerAuditCommands,
    registerEvidenceCommands,
    registerRecordingCommands,
    registerSignOffCommands,
  ])
    register(program, ctx);
  return program;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');

if (isMain) {
  const ctx: CliContext = {
    openDeps: async () => {
      const config = loadConfig();
      // Logs go to stderr so stdout carries only the command's output (a token, JSON lines).
      return openVault(config, {
        logger: createLogger({
          level: config.logLevel === 'info' ? 'warn' : config.logLevel,
          destination: process.stderr,
        }),
        defaultMetrics: false,
      });
    },
    out: (line) => process.stdout.write(`${line}\n`),
    actorId: `cli:${os.userInfo().username}`,
    env: process.env,
  };
  buildProgram(ctx)
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`vault: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
