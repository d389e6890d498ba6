import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKeysCommands } from '../../src/cli/keys.js';
import { parseKeks } from '../../src/crypto/keyring.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { createEpochKeys } from '../../src/domain/epoch-keyring.js';
import { runSweep } from '../../src/domain/sweeper.js';
import { newVisit } from '../helpers/actors.js';
import { epochOf } from '../helpers/epochs.js';
import { uploadSealed } from '../helpers/recordings.js';
import { fixedKeks, startTestVault, type TestVault } from '../helpers/vault.js';

const DAY = 86_400_000;

/** `npm run vault -- keys ...`, run in-process against a vault's stores. */
describe('keys CLI', () => {
  let vault: TestVault;
  let orders: string[];
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs', { VAULT_KEKS: await fixedKeks([1]), VAULT_BACKUP_WINDOW: '10d' });
    orders = [];
    for (let i = 0; i < 2; i++) {
      const visit = await newVisit(vault);
      await uploadSealed(vault, visit);
      orders.push(visit.orderId);
    }
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

  it('lists live epochs with their order counts and when each will be destroyed', async () => {
    const epoch = (await epochOf(vault, orders[0]!))!;
    const [header, ...rows] = await run(['keys', 'epochs'], vault.deps);
    expect(header).toBe('epoch\tends\torders\tcovered\tdestroyed');
    const row = rows.find((r) => r.startsWith(`${epoch}\t`));
    const ends = new Date(new Date(epoch).getTime() + DAY);
    expect(row).toBe(`${epoch}\t${ends.toISOString()}\t2\t2\tat ${new Date(ends.getTime() + 10 * DAY).toISOString()}`);
  });

  it('reports status, rewraps epoch keys under the newest KEK, and audits it as the CLI user', async () => {
    const keyring = parseKeks(await fixedKeks([1, 2]));
    const rotated: DomainDeps = {
      ...vault.deps,
      keyring,
      epochKeys: createEpochKeys(vault.deps.epochKeys.store, keyring, vault.clock),
    };
    const epochs = (await run(['keys', 'epochs'], vault.deps)).length - 1;
    expect(await run(['keys', 'status'], rotated)).toEqual([
      'configured KEK versions: 1, 2 (current: 2)',
      `version 1: ${epochs} epoch keys`,
    ]);
    expect(await run(['keys', 'rewrap', '--batch-size', '1'], rotated)).toEqual([
      `rewrapped ${epochs} epoch keys under KEK version 2`,
    ]);
    expect(await run(['keys', 'status'], rotated)).toEqual([
      'configured KEK versions: 1, 2 (current: 2)',
      `version 2: ${epochs} epoch keys`,
    ]);
    const [entry] = await vault.deps.db.query<{ actor_id: string }>(
      `SELECT actor_id FROM audit_log WHERE action = 'keys.rewrapped' LIMIT 1`,
    );
    expect(entry?.actor_id).toBe('cli:test');
    const lines = await run(['keys', 'status'], { ...vault.deps, keyring: parseKeks(await fixedKeks([1])) });
    expect(lines).toContain(`version 2: ${epochs} epoch keys  (NOT CONFIGURED)`);
  });

  it('says when an epoch waits only for the next sweep, and drops it once destroyed', async () => {
    const epoch = (await epochOf(vault, orders[0]!))!;
    vault.clock.set(new Date(new Date(epoch).getTime() + DAY + 10 * DAY));
    const waiting = (await run(['keys', 'epochs'], vault.deps)).find((r) => r.startsWith(`${epoch}\t`));
    expect(waiting).toMatch(/\t2\t2\tonce its 2 orders have moved on or expired$/);
    const keyring = parseKeks(await fixedKeks([1, 2]));
    await runSweep({
      ...vault.deps,
      keyring,
      epochKeys: createEpochKeys(vault.deps.epochKeys.store, keyring, vault.clock),
    });
    expect((await run(['keys', 'epochs'], vault.deps)).some((r) => r.startsWith(`${epoch}\t`))).toBe(false);
  });
});
