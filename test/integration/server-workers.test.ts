import { readdir, readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDataDir, stopLeftoverCluster } from '../helpers/embedded.js';
import { embeddedEnv, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { fixedKeks } from '../helpers/vault.js';

const ADMIN = 'vv_workers-test-admin-token-0123456789';

/** The pids whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Fields after the command (which may hold spaces) start after the last ')': state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(name));
  }
  return out.sort();
}

/** Node server workers among the children (the embedded PostgreSQL's processes are not ours to count). */
async function serverWorkers(pid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const c of await childrenOf(pid)) {
    const cmd = await readFile(`/proc/${c}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('src/server.ts')) pids.push(c);
  }
  return pids;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('VAULT_WORKERS: several server processes on one port', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await embeddedDataDir('vault-workers-');
    server = await startServerProcess(
      embeddedEnv({
        VAULT_DATA_DIR: dataDir,
        VAULT_KEKS: await fixedKeks([1]),
        VAULT_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
        VAULT_WORKERS: '2',
        LOG_LEVEL: 'info',
      }),
    );
  }, 180_000);
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await stopLeftoverCluster(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs two workers that both serve, replaces one that dies, and stops them all on SIGTERM', async () => {
    const primary = server.child.pid ?? 0;
    const first = await until(
      () => serverWorkers(primary),
      (p) => p.length === 2,
      'two workers',
    );
    expect(server.lines.some((l) => l.includes('started 2 server workers'))).toBe(true);
    // Both listening before one is killed: a worker that dies before it listens stops the whole server, by design.
    await until(
      async () => server.lines.filter((l) => l.includes('visit vault listening on')).length,
      (n) => n >= 2,
      'both workers listening',
    );
    // Answers over fresh connections (each may land on either worker).
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${server.baseUrl}/v1/me`, {
        headers: { authorization: `Bearer ${ADMIN}`, connection: 'close' },
      });
      expect(res.status).toBe(200);
    }
    const [victim] = first;
    process.kill(victim ?? 0, 'SIGKILL');
    const after = await until(
      () => serverWorkers(primary),
      (p) => p.length === 2 && !p.includes(victim ?? 0),
      'a replacement worker',
    );
    expect(after).not.toEqual(first);
    await until(
      () => fetch(`${server.baseUrl}/readyz`).then((r) => r.status),
      (s) => s === 200,
      'readiness after the replacement',
    );
    expect(await server.stop()).toBe(0);
    expect(await serverWorkers(primary)).toEqual([]);
  }, 180_000);
});
