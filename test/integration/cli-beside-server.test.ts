import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDataDir, isRunning, postmasterPid, stopLeftoverCluster } from '../helpers/embedded.js';
import { embeddedEnv, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { fixedKeks } from '../helpers/vault.js';

const run = promisify(execFile);
const ADMIN = 'vv_cli-beside-server-admin-token-0123456789';

interface Verified {
  ok: boolean;
  checked: number;
}
interface AuditPage {
  entries: { actorId: string; action: string; details: Record<string, unknown> }[];
}

/**
 * `npm run vault` beside a running server on one embedded data dir: both use
 * the one PostgreSQL cluster, so what the CLI writes the server sees at once,
 * it survives a restart, and one audit chain covers both.
 */
describe('the CLI and the server on one embedded data dir', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;

  const vault = async (...args: string[]) => {
    const { stdout } = await run('npm', ['run', 'vault', '--', ...args], { env, timeout: 120_000 });
    // npm prints its own banner first; the command's output is the last line.
    return stdout.trim().split('\n').at(-1) ?? '';
  };
  const api = async <T>(token: string, p: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server!.baseUrl}${p}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    dataDir = await embeddedDataDir('vault-cli-server-');
    env = embeddedEnv({
      VAULT_DATA_DIR: dataDir,
      VAULT_KEKS: await fixedKeks([1]),
      VAULT_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
    });
    server = await startServerProcess(env);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await stopLeftoverCluster(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a principal the CLI adds works on the running server at once and after a restart', async () => {
    const clusterPid = await postmasterPid(dataDir);
    const token = await vault(
      'principal',
      'add',
      '--id',
      'cli-auditor',
      '--name',
      'Ann',
      '--department',
      'audit',
      '--roles',
      'auditor',
    );
    expect(token).toMatch(/^vv_/);
    // The CLI used the server's cluster and left it running.
    expect(await postmasterPid(dataDir)).toBe(clusterPid);
    expect(isRunning(clusterPid!)).toBe(true);

    const now = await api<Verified>(token, '/v1/audit/verify');
    expect(now.status).toBe(200);
    expect(now.body.ok).toBe(true);

    // A write of the server's own, then the chain checked by the CLI: one chain over both processes.
    const admin = await fetch(`${server!.baseUrl}/v1/principals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'api-auditor', name: 'Bo', department: 'audit', roles: ['auditor'] }),
    });
    expect(admin.status).toBe(201);
    const viaCli = JSON.parse(await vault('audit', 'verify')) as Verified;
    expect(viaCli.ok).toBe(true);

    expect(await server!.stop()).toBe(0);
    expect(isRunning(clusterPid!)).toBe(false);
    server = await startServerProcess(env);

    const after = await api<Verified>(token, '/v1/audit/verify');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ ok: true });
    expect(after.body.checked).toBeGreaterThan(viaCli.checked);
    const trail = await api<AuditPage>(token, '/v1/audit?limit=1000');
    const created = trail.body.entries
      .filter((e) => e.action === 'principal.created' && String(e.details.principalId).endsWith('-auditor'))
      .map((e) => [e.details.principalId, e.actorId.startsWith('cli:') ? 'by the CLI' : 'by the server']);
    expect(created).toEqual([
      ['cli-auditor', 'by the CLI'],
      ['api-auditor', 'by the server'],
    ]);
  }, 300_000);

  it('the CLI alone starts the cluster for its command and stops it again', async () => {
    expect(await server!.stop()).toBe(0);
    server = undefined;
    expect(await postmasterPid(dataDir)).toBeUndefined();
    const listed = await vault('principal', 'list');
    expect(listed).toMatch(/^cli-auditor\taudit\tauditor\tactive\tAnn$/);
    expect(await postmasterPid(dataDir)).toBeUndefined();
  }, 180_000);
});
