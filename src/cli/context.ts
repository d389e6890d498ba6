import type { Command } from 'commander';
import type { DomainDeps } from '../domain/deps.js';

/**
 * What a CLI command group receives: a way to open the same stores the server
 * uses (same Config, same env), and where to print. Each group lives in its
 * own file and exports `register(program, ctx)`; src/cli/main.ts wires them.
 */
export interface CliContext {
  openDeps(): Promise<DomainDeps & { close(): Promise<void> }>;
  out(line: string): void;
  /** who the audit log names for what this CLI run does, e.g. `cli:alice` */
  actorId: string;
  /** environment of commands that talk to a running vault (VAULT_URL, VAULT_TOKEN); main.ts passes process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
