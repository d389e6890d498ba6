import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLUSTER_DIR } from '../../src/store/db/embedded/cluster.js';

/**
 * A temp data dir for the embedded cluster. mkdtemp makes it 0700; run as
 * root, the cluster runs as the system user `postgres`, which must be able to
 * enter it (x only: it still cannot list it).
 */
export async function embeddedDataDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o711);
  return dir;
}

/** The postmaster's pid from the cluster's lock file, or undefined when no cluster has it. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, CLUSTER_DIR, 'postmaster.pid'), 'utf8').catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
  return text === undefined ? undefined : Number(text.split('\n')[0]);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Waits (polling, no fixed sleep) until the condition holds, failing with `what` after timeoutMs. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * After a failed test: stops a cluster a test left running (fast shutdown of
 * the postmaster named in its lock file), so no PostgreSQL outlives the run.
 */
export async function stopLeftoverCluster(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === undefined || !isRunning(pid)) return;
  process.kill(pid, 'SIGINT');
  await waitFor('the leftover embedded PostgreSQL to stop', async () => (await postmasterPid(dataDir)) !== pid);
}
