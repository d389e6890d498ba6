import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Database } from '../../src/store/db/database.js';
import { CLUSTER_DIR, LEASE_APPLICATION, PASSWORD_FILE } from '../../src/store/db/embedded/cluster.js';
import { openDatabase } from '../../src/store/db/open.js';
import { findPrincipal, insertPrincipal } from '../../src/store/db/principals.js';
import { embeddedDataDir, isRunning, postmasterPid, stopLeftoverCluster, waitFor } from '../helpers/embedded.js';

const run = promisify(execFile);

/** A logger like the server's (JSON lines) writing into an array. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new PassThrough();
  let partial = '';
  stream.on('data', (d: Buffer) => {
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.length > 0));
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines };
}

const setting = async (db: Database, name: string) =>
  (await db.query<Record<string, string>>(`SHOW ${name}`))[0]?.[name];

/** The embedded default: a real PostgreSQL cluster in the data dir, shared by the processes of that data dir. */
describe('embedded PostgreSQL cluster', () => {
  const dirs: string[] = [];
  const dataDir = async (prefix: string) => {
    const dir = await embeddedDataDir(prefix);
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) {
      await stopLeftoverCluster(dir);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is durable, shared by two users starting at once, stopped by the last, and logs JSON without its password', async () => {
    const dir = await dataDir('vault-cluster-');
    const a = capturedLogger();
    const b = capturedLogger();
    // Two starters at once on a fresh data dir: one initdb wins the rename, one postmaster wins the lock file.
    const [first, second] = await Promise.all([
      openDatabase({ dataDir: dir }, { logger: a.logger }),
      openDatabase({ dataDir: dir }, { logger: b.logger }),
    ]);
    const server = async (db: Database) =>
      (
        await db.query<{ port: number; started: Date }>(
          'SELECT inet_server_port() AS port, pg_postmaster_start_time() AS started',
        )
      )[0];
    expect(await server(second)).toEqual(await server(first));

    // Durability is not a tuning knob: it reads back on from the vault's own connections.
    for (const db of [first, second]) {
      expect(await setting(db, 'fsync')).toBe('on');
      expect(await setting(db, 'synchronous_commit')).toBe('on');
      expect(await setting(db, 'full_page_writes')).toBe('on');
      expect(await setting(db, 'listen_addresses')).toBe('127.0.0.1');
    }

    const passwordFile = path.join(dir, PASSWORD_FILE);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    const password = (await readFile(passwordFile, 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(32);

    await insertPrincipal(first, { id: 'kept', name: 'K', department: 'x', roles: ['auditor'] }, new Date());
    const pid = await postmasterPid(dir);
    expect(pid).toBeDefined();

    // A backend crash makes PostgreSQL end every session, lease connections included: each user takes its lease
    // again, or the first to close below would find no other user and stop the cluster under the second.
    const leases = async () =>
      (
        await second.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
           WHERE a.application_name = $1 AND l.locktype = 'advisory' AND l.mode = 'ShareLock' AND l.granted`,
          [LEASE_APPLICATION],
        )
      )[0]?.n;
    expect(await leases()).toBe(2);
    await second.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      LEASE_APPLICATION,
    ]);
    await waitFor('both leases taken again', async () => (await leases()) === 2);

    // The first to close leaves it running for the other...
    await first.close();
    expect(isRunning(pid!)).toBe(true);
    expect(await findPrincipal(second, 'kept')).toMatchObject({ id: 'kept' });
    // ...and the last one stops it.
    await second.close();
    expect(await postmasterPid(dir)).toBeUndefined();
    expect(isRunning(pid!)).toBe(false);

    const lines = [...a.lines, ...b.lines];
    const entries = lines.map((l) => JSON.parse(l) as { source?: string; severity?: string; msg: string });
    expect(entries.some((e) => e.source === 'initdb')).toBe(true);
    expect(
      entries.some((e) => e.source === 'postgres' && e.msg === 'database system is ready to accept connections'),
    ).toBe(true);
    for (const line of lines) expect(line).not.toContain(password);
  });

  it('comes back from a cold copy of its files (the README backup) with its data', async () => {
    const dir = await dataDir('vault-backup-');
    const { logger, lines } = capturedLogger();
    const db = await openDatabase({ dataDir: dir }, { logger });
    await insertPrincipal(db, { id: 'backed-up', name: 'B', department: 'x', roles: ['auditor'] }, new Date());
    await db.close();
    // Its only user started it, so it stopped it and relayed PostgreSQL's output to the very end.
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('database system is shut down');

    const archive = path.join(dir, 'backup.tar');
    await run('tar', ['-C', dir, '-cpf', archive, CLUSTER_DIR, PASSWORD_FILE]);
    const restored = await dataDir('vault-restored-');
    await run('tar', ['-C', restored, '-xpf', archive]);
    const again = await openDatabase({ dataDir: restored }, { logger });
    try {
      expect(await findPrincipal(again, 'backed-up')).toMatchObject({ id: 'backed-up' });
    } finally {
      await again.close();
    }
  });

  it('refuses a data dir that holds an old PGlite database, saying what to do', async () => {
    const dir = await dataDir('vault-pglite-');
    await mkdir(path.join(dir, 'pglite'));
    const { logger } = capturedLogger();
    const refused = openDatabase({ dataDir: dir }, { logger });
    await expect(refused).rejects.toThrow(/holds a database of the vault's earlier embedded engine \(PGlite\)/);
    await expect(refused).rejects.toThrow(/export it with the vault version that wrote it.*delete/);
    await expect(stat(path.join(dir, CLUSTER_DIR))).rejects.toThrow(/ENOENT/);
  });
});
