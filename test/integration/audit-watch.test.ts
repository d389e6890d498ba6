import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sequence } from '../../src/audit/sequencer.js';
import { buildProgram } from '../../src/cli/main.js';
import { openCheckpointStore } from '../../src/store/checkpoint-store.js';
import { newVisit } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/** `vault audit watch` against a real server over HTTP: it keeps the last checkpoint and catches a rollback or a fork. */
describe('vault audit watch', () => {
  let vault: TestVault;
  let dir: string;
  let state: string;
  let token: string;
  let vkey: string;

  beforeEach(async () => {
    vault = await startTestVault('postgres+fs');
    dir = await mkdtemp(path.join(os.tmpdir(), 'vault-watch-'));
    state = path.join(dir, 'state.json');
    token = await vault.addPrincipal({ id: 'watcher', roles: ['auditor'], department: 'audit' });
    vkey = ((await (await fetch(`${vault.baseUrl}/v1/audit/log-key`)).json()) as { verifierKey: string }).verifierKey;
    await newVisit(vault);
    await vault.deps.sequenceNow();
  });
  afterEach(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const watch = async (...extra: string[]): Promise<Record<string, unknown>> => {
    const lines: string[] = [];
    const program = buildProgram({
      openDeps: () => Promise.reject(new Error('audit watch opened the vault')),
      out: (l) => lines.push(l),
      actorId: 'cli:monitor',
    });
    const quiet = (c: Command): void => {
      c.exitOverride().configureOutput({ writeErr: () => undefined });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync([
      'node',
      'vault',
      'audit',
      'watch',
      '--state',
      state,
      '--server',
      vault.baseUrl,
      '--token',
      token,
      ...extra,
    ]);
    return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
  };
  const size = async () => Number((await (await fetch(`${vault.baseUrl}/v1/audit/checkpoint`)).text()).split('\n')[1]);

  it('keeps the newest checkpoint and proves each later one extends it', async () => {
    const first = await watch('--key', vkey);
    expect(first).toMatchObject({ ok: true, treeSize: await size(), previous: null });
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const second = await watch();
    expect(second).toMatchObject({ ok: true, treeSize: await size(), previous: first.treeSize });
    expect(second.treeSize as number).toBeGreaterThan(first.treeSize as number);
    expect(await watch()).toMatchObject({ ok: true, previous: second.treeSize });
    expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ verifierKey: vkey });
  });

  it('exits non-zero on a rollback, and keeps the state it had', async () => {
    await newVisit(vault);
    await vault.deps.sequenceNow();
    await watch('--key', vkey);
    const kept = await readFile(state, 'utf8');
    // Someone with database access cuts the log back to an older checkpoint.
    const [older] = await vault.deps.db.query<{ tree_size: number }>(
      'SELECT min(tree_size) AS tree_size FROM audit_checkpoints',
    );
    await vault.deps.db.query('DELETE FROM audit_checkpoints WHERE tree_size > $1', [older?.tree_size]);
    await expect(watch()).rejects.toThrow(/rollback/);
    expect(await readFile(state, 'utf8')).toBe(kept);
  });

  it('exits non-zero on a fork: the log rewritten and re-signed', async () => {
    await watch('--key', vkey);
    const [entry] = await vault.deps.db.query<{ id: string }>(
      'SELECT id::text AS id FROM audit_log ORDER BY id LIMIT 1',
    );
    await vault.deps.db.query(`UPDATE audit_log SET details = '{"rewritten": true}' WHERE id = $1`, [entry?.id]);
    await vault.deps.db.query('DELETE FROM audit_checkpoints');
    await vault.deps.db.query('DELETE FROM audit_tree');
    await vault.deps.db.query('UPDATE audit_log SET leaf_index = NULL, leaf_hash = NULL');
    // Re-signed with the log key by a sequencer that does not see the published checkpoints.
    const elsewhere = await mkdtemp(path.join(dir, 'own-'));
    const own = await openCheckpointStore({ checkpoints: { kind: 'dir', dir: elsewhere } });
    await newVisit(vault);
    await sequence({ ...vault.deps, checkpoints: own }, { wait: true });
    await own.close();
    await expect(watch()).rejects.toThrow(/fork/);
  });

  it('refuses a checkpoint signed by another key than the one kept', async () => {
    await watch('--key', vkey);
    await expect(watch('--key', Buffer.alloc(32, 3).toString('base64url'))).rejects.toThrow(/not the key/);
  });
});
