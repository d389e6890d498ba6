import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKeysCommands } from '../../src/cli/keys.js';
import { parseKeks } from '../../src/crypto/keyring.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { newVisit } from '../helpers/actors.js';
import { fixedKeks, startTestVault, type TestVault } from '../helpers/vault.js';

/** `npm run vault -- keys ...`, run in-process against a vault's stores. */
describe('keys CLI', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_KEKS: await fixedKeks([1]) });
    await newVisit(vault);
    await newVisit(vault);
  });
  afterAll(async () => vault?.close());

  async function run(args: string[], deps: DomainDeps): Promise<string[]> {
    const lines: string[] = [];
    const program = new Command().exitOverride();
    registerKeysCommands(program, {
      openDeps: async () => ({ ...deps, close: async () => undefined }),
      out: (l) => lines.push(l),
      actorId: 'cli:test',
    });
    await program.parseAsync(['node', 'vault', ...args]);
    return lines;
  }

  it('generates a KEK entry that parses', async () => {
    const [line] = await run(['keys', 'generate', '--version', '3'], vault.deps);
    expect(parseKeks(line!).current.version).toBe(3);
  });

  it('reports status, rewraps under the newest KEK, and audits it as the CLI user', async () => {
    const rotated: DomainDeps = { ...vault.deps, keyring: parseKeks(await fixedKeks([1, 2])) };
    expect(await run(['keys', 'status'], rotated)).toEqual([
      'configured KEK versions: 1, 2 (current: 2)',
      'version 1: 2 order keys',
    ]);
    expect(await run(['keys', 'rewrap', '--batch-size', '1'], rotated)).toEqual([
      'rewrapped 2 order keys under KEK version 2',
    ]);
    expect(await run(['keys', 'status'], rotated)).toEqual([
      'configured KEK versions: 1, 2 (current: 2)',
      'version 2: 2 order keys',
    ]);
    const [entry] = await vault.deps.db.query<{ actor_id: string }>(
      `SELECT actor_id FROM audit_log WHERE action = 'keys.rewrapped' LIMIT 1`,
    );
    expect(entry?.actor_id).toBe('cli:test');
  });

  it('flags a stored version that is not configured', async () => {
    const lines = await run(['keys', 'status'], { ...vault.deps, keyring: parseKeks(await fixedKeks([1])) });
    expect(lines).toContain('version 2: 2 order keys  (NOT CONFIGURED)');
  });
});
