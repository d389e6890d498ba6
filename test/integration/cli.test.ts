import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { hashToken } from '../../src/domain/tokens.js';
import { newVisit } from '../helpers/actors.js';
import { embeddedDataDir, stopLeftoverCluster } from '../helpers/embedded.js';
import { uploadSealed } from '../helpers/recordings.js';
import { embeddedEnv } from '../helpers/server-process.js';
import { fixedKeks, startTestVault, type TestVault } from '../helpers/vault.js';

const run = promisify(execFile);

describe('vault CLI', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  async function cli(...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    const program = buildProgram({
      openDeps: async () => ({ ...vault.deps, close: async () => undefined }),
      out: (l) => lines.push(l),
      actorId: 'cli:ops',
    });
    // A usage error throws instead of exiting the test process, at every level of subcommands.
    const quiet = (c: Command): void => {
      c.exitOverride().configureOutput({ writeErr: () => undefined });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(['node', 'vault', ...args]);
    return lines;
  }

  it('adds, lists and revokes principals, audited as the CLI user', async () => {
    const [token] = await cli(
      'principal',
      'add',
      '--id',
      'cli-auditor',
      '--name',
      'Ann Auditor',
      '--department',
      'audit',
      '--roles',
      'auditor',
    );
    const rows = await vault.deps.db.query<{ token_hash: string }>(
      `SELECT token_hash FROM tokens WHERE principal_id = 'cli-auditor'`,
    );
    expect(rows[0]?.token_hash).toBe(hashToken(token!));
    expect(await cli('principal', 'list')).toContain('cli-auditor\taudit\tauditor\tactive\tAnn Auditor');
    expect(await cli('principal', 'revoke', 'cli-auditor')).toEqual(['revoked cli-auditor']);
    expect((await cli('principal', 'list')).some((l) => l.startsWith('cli-auditor') && l.includes('revoked'))).toBe(
      true,
    );
    const actors = await vault.deps.db.query<{ actor_id: string }>(
      `SELECT actor_id FROM audit_log WHERE action IN ('principal.created', 'principal.revoked') AND details->>'principalId' = 'cli-auditor'`,
    );
    expect(actors.map((a) => a.actor_id)).toEqual(['cli:ops', 'cli:ops']);
    await expect(
      cli('principal', 'add', '--id', 'x', '--name', 'x', '--department', 'x', '--roles', 'root'),
    ).rejects.toThrow(/unknown roles: root/);
  });

  it('verifies and exports the audit chain, and lists recordings', async () => {
    const visit = await newVisit(vault);
    const rec = await uploadSealed(vault, visit);
    await vault.deps.sequenceNow();
    const [verdict] = await cli('audit', 'verify');
    const checked = JSON.parse(verdict!) as { ok: boolean; treeSize: number };
    expect(checked).toMatchObject({ ok: true, treeSize: expect.any(Number) });
    expect(checked.treeSize).toBeGreaterThan(0);
    const kept = path.join(await mkdtemp(path.join(os.tmpdir(), 'vault-cli-')), 'checkpoint');
    await writeFile(
      kept,
      (
        await vault.deps.db.query<{ note: string }>(
          'SELECT note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1',
        )
      )[0]!.note,
    );
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const [again] = await cli('audit', 'verify', '--checkpoint', kept);
    expect(JSON.parse(again!)).toMatchObject({ ok: true });
    expect(JSON.parse(again!).treeSize).toBeGreaterThan(checked.treeSize);
    await writeFile(kept, 'not a checkpoint\n');
    await expect(cli('audit', 'verify', '--checkpoint', kept)).rejects.toThrow(/does not verify with the log key/);
    const exported = (await cli('audit', 'export', '--order', visit.orderId)).map(
      (l) => JSON.parse(l) as { action: string },
    );
    expect(exported.map((e) => e.action)).toEqual(expect.arrayContaining(['order.registered', 'recording.sealed']));
    const [line] = await cli('recordings', 'list', '--order', visit.orderId);
    expect(JSON.parse(line!)).toMatchObject({ recordingId: rec, status: 'sealed' });
    expect(line).not.toMatch(/sealedContentKey|wrapped/);
  });

  it('prints its commands in --help', () => {
    const help = buildProgram({ openDeps: async () => vault.deps, out: () => undefined, actorId: 'cli:ops' });
    expect(help.helpInformation()).toMatch(/principal/);
    expect(help.helpInformation()).toMatch(/keys/);
  });

  it('runs as `npm run vault` does (node --import tsx src/cli/main.ts) against a fresh data dir', async () => {
    // The npm script's command without npm (npx and npm cost seconds of CPU each on a busy machine).
    const vaultCli = (args: string[], env: NodeJS.ProcessEnv) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
    const dataDir = await embeddedDataDir('vault-cli-');
    try {
      const env = embeddedEnv({ VAULT_DATA_DIR: dataDir, VAULT_KEKS: await fixedKeks([1]) });
      const added = await vaultCli(
        ['principal', 'add', '--id', 'first-admin', '--name', 'First', '--department', 'it', '--roles', 'admin'],
        env,
      );
      expect(added.stdout.trim()).toMatch(/^vv_[A-Za-z0-9_-]{43}$/);
      const listed = await vaultCli(['principal', 'list'], env);
      expect(listed.stdout).toContain('first-admin');
    } finally {
      await stopLeftoverCluster(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
