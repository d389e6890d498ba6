import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, link, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../../../logger.js';
import { assertReachable, type ClusterOwner, clusterOwner, findBinaries, type PostgresBinaries } from './binaries.js';
import { relayOutput } from './output.js';

/**
 * @module The embedded PostgreSQL cluster: a real PostgreSQL server whose
 * files live in `VAULT_DATA_DIR/postgres`, used when DATABASE_URL is unset.
 *
 * - **Created once**: initdb runs in a temporary directory beside it that is
 *   renamed into place, so two processes starting at once on a fresh data dir
 *   cannot both initialise it (the second rename fails and that process uses
 *   the first one's cluster). The role `vault`'s password is generated once
 *   into `VAULT_DATA_DIR/postgres-password` (0600).
 * - **Started by the first user**: it listens on 127.0.0.1 only, on a port
 *   free at start that postgres writes into its `postmaster.pid`, where every
 *   other process (a second server, the CLI) reads it and connects instead of
 *   starting its own. Two processes starting it at once: PostgreSQL's own lock
 *   file lets one postmaster run; the other's exits and that process connects
 *   to the winner. The server runs in a session of its own, so a Ctrl-C in the
 *   terminal does not stop it under a server still draining its requests.
 * - **Stopped by the last user**: each process using the cluster holds a
 *   shared advisory lock on one connection of its own. Closing, it trades it
 *   for the exclusive lock: granted, nobody else uses the cluster and it stops
 *   it (fast shutdown) while holding that lock, so a process arriving then is
 *   refused its lease and starts the cluster anew once this one is down;
 *   refused, another process still uses it and it is left running for that
 *   process to stop. So a CLI command never stops the server's database, and a
 *   CLI that started the cluster does not wait for a server that joined it. A
 *   lease lost with its connection (a backend crash resets every session) is
 *   taken again.
 *   PostgreSQL's output goes to the log of the process that started it; after
 *   that process is gone it is not relayed anywhere.
 * - **Durable**: fsync, synchronous_commit and full_page_writes are `on` on
 *   the command line, which outranks postgresql.conf and ALTER SYSTEM. A
 *   cluster killed with its vault is recovered by PostgreSQL's crash recovery
 *   at the next start; one that outlived its vault is simply used again.
 */

const run = promisify(execFile);

export const CLUSTER_DIR = 'postgres';
export const PASSWORD_FILE = 'postgres-password';
const PGLITE_DIR = 'pglite';
const ROLE = 'vault';
const DATABASE = 'postgres';
/** Advisory lock key: held shared by every process using the cluster, exclusive by the one stopping it. */
const LEASE_KEY = 7_042_016;
const START_ATTEMPTS = 5;
/** how the lease connections show in pg_stat_activity */
export const LEASE_APPLICATION = 'visit-vault lease';

/** Command-line settings: they outrank postgresql.conf and ALTER SYSTEM, so durability is not a tuning knob here. */
const SERVER_SETTINGS: [string, string][] = [
  ['listen_addresses', '127.0.0.1'],
  // No Unix socket: nothing in /tmp, and the only door is loopback TCP with the password.
  ['unix_socket_directories', ''],
  ['fsync', 'on'],
  ['synchronous_commit', 'on'],
  ['full_page_writes', 'on'],
  ['logging_collector', 'off'],
  ['log_destination', 'stderr'],
  ['log_line_prefix', '[%p] '],
  ['lc_messages', 'C'],
];

export interface EmbeddedAddress {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface EmbeddedCluster {
  address: EmbeddedAddress;
  /** Ends this process's use of the cluster; stops it when no other process uses it. */
  release(): Promise<void>;
}

export interface EmbeddedClusterOptions {
  dataDir: string;
  logger: Logger;
  /** how long to wait for a cluster being started, recovered or stopped by another process */
  timeoutMs?: number;
}

/** Uses the cluster of the data dir: started here when no process runs it, else the running one. */
export async function openEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const { dataDir, logger } = options;
  await refuseOldPglite(dataDir);
  await mkdir(dataDir, { recursive: true });
  const clusterDir = path.join(dataDir, CLUSTER_DIR);
  const binaries = await findBinaries();
  const owner = await clusterOwner(logger);
  if (owner) {
    await assertReachable(binaries.postgres, owner, 'the PostgreSQL binaries');
    await assertReachable(clusterDir, owner, 'the data directory');
  }
  const password = await loadOrCreatePassword(dataDir);
  await ensureInitialised({ dataDir, clusterDir, binaries, owner, password, logger });

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const addressOn = (port: number): EmbeddedAddress => ({
    host: '127.0.0.1',
    port,
    user: ROLE,
    password,
    database: DATABASE,
  });
  let failedStarts = 0;
  for (;;) {
    const running = await readPostmaster(clusterDir);
    if (running && isAlive(running.pid)) {
      if (running.status === 'ready') {
        const lease = await takeLease(addressOn(running.port), clusterDir, logger);
        if (lease) {
          logger.info({ port: running.port, pid: running.pid }, 'using the embedded PostgreSQL already running');
          return usage(lease, { clusterDir, address: addressOn(running.port), logger });
        }
      }
      // starting, recovering, or being stopped by its last user: look again shortly
    } else {
      const started = await startServer({ clusterDir, binaries, owner, logger });
      if (started.kind === 'ready') {
        const lease = await takeLease(addressOn(started.port), clusterDir, logger);
        if (lease) return usage(lease, { clusterDir, address: addressOn(started.port), logger, own: started.own });
      } else {
        // Lost the race to another process's postmaster (it is in postmaster.pid now), the port was taken,
        // or old server processes of a killed cluster were still leaving: try again, then report.
        const winner = await readPostmaster(clusterDir);
        if (!(winner && isAlive(winner.pid)) && ++failedStarts >= START_ATTEMPTS)
          throw new Error(`the embedded PostgreSQL in ${clusterDir} did not start: ${started.reason}`);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the embedded PostgreSQL in ${clusterDir} did not become usable in time` +
          (running && isAlive(running.pid)
            ? ` (postmaster.pid names process ${running.pid}, status "${running.status}", port ${running.port};` +
              ` if no PostgreSQL runs on this directory, remove ${path.join(clusterDir, 'postmaster.pid')})`
            : ''),
      );
    }
    await sleep(100);
  }
}

/** A data dir of the vault's earlier embedded engine: refused, so that nothing stored there is silently ignored. */
async function refuseOldPglite(dataDir: string): Promise<void> {
  const old = path.join(dataDir, PGLITE_DIR);
  const found = await stat(old).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  if (found) {
    throw new Error(
      `${old} holds a database of the vault's earlier embedded engine (PGlite), which this version does not read; ` +
        `the embedded database is now a PostgreSQL cluster in ${path.join(dataDir, CLUSTER_DIR)}. To keep that data, ` +
        'export it with the vault version that wrote it and load it into the new cluster; ' +
        `if it is disposable, delete ${old}. The vault does not start beside it.`,
    );
  }
}

async function loadOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, PASSWORD_FILE);
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing === undefined) {
    // Written whole to a temp file, then linked into place: a racing process finds the file complete or not at all.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    } finally {
      await unlink(tmp);
    }
  }
  await chmod(file, 0o600);
  const password = (await readFile(file, 'utf8')).trim();
  if (password.length < 16) throw new Error(`${file} does not hold the embedded PostgreSQL's password`);
  return password;
}

interface InitOptions {
  dataDir: string;
  clusterDir: string;
  binaries: PostgresBinaries;
  owner: ClusterOwner | undefined;
  password: string;
  logger: Logger;
}

async function ensureInitialised(o: InitOptions): Promise<void> {
  const version = await readFile(path.join(o.clusterDir, 'PG_VERSION'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (version !== undefined) {
    const binaryMajor = await serverMajorVersion(o.binaries);
    if (version.trim() !== binaryMajor)
      throw new Error(
        `${o.clusterDir} is a PostgreSQL ${version.trim()} cluster and the installed binaries are PostgreSQL ` +
          `${binaryMajor}: upgrade it with pg_upgrade (or dump and restore) before starting this vault`,
      );
    return;
  }
  const work = await mkdtemp(path.join(o.dataDir, `${CLUSTER_DIR}.init-`));
  try {
    if (o.owner) await chown(work, o.owner.uid, o.owner.gid);
    const pwfile = path.join(work, 'pwfile');
    await writeFile(pwfile, `${o.password}\n`, { mode: 0o600 });
    if (o.owner) await chown(pwfile, o.owner.uid, o.owner.gid);
    const pgdata = path.join(work, 'pgdata');
    const started = Date.now();
    await runToEnd(
      o.binaries.initdb,
      [
        `--pgdata=${pgdata}`,
        `--username=${ROLE}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // The builtin provider: the same collation on every machine, whatever locales the OS has.
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--lc-messages=C',
      ],
      { owner: o.owner, logger: o.logger, source: 'initdb' },
    );
    await rm(pwfile);
    try {
      await rename(pgdata, o.clusterDir);
      o.logger.info({ ms: Date.now() - started }, `created the embedded PostgreSQL cluster in ${o.clusterDir}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      o.logger.info(`another process created the embedded PostgreSQL cluster in ${o.clusterDir} first`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function serverMajorVersion(binaries: PostgresBinaries): Promise<string> {
  // `postgres --version` is answered before PostgreSQL's refusal to run as root.
  const { stdout } = await run(binaries.postgres, ['--version'], { env: childEnv() });
  const major = /\(PostgreSQL\) (\d+)/.exec(stdout)?.[1];
  if (!major) throw new Error(`cannot read the version of ${binaries.postgres}: ${stdout.trim()}`);
  return major;
}

/** Only what PostgreSQL needs: the vault's environment holds its keys, readable by the cluster's user in /proc. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}

function spawnAs(command: string, args: string[], owner: ClusterOwner | undefined, detached: boolean): ChildProcess {
  return spawn(command, args, {
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    cwd: '/',
    env: childEnv(),
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runToEnd(
  command: string,
  args: string[],
  o: { owner: ClusterOwner | undefined; logger: Logger; source: 'initdb' },
): Promise<void> {
  const child = spawnAs(command, args, o.owner, false);
  const tail = relayOutput(o.logger, [child.stdout, child.stderr], { source: o.source, fallback: 'debug' });
  const code = await new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  if (code !== 0) throw new Error(`${o.source} failed (${code}): ${tail.join(' | ')}`);
}

/** The postmaster this process started: its output is relayed here until `ended` (its output closed). */
interface OwnPostmaster {
  child: ChildProcess;
  ended(): boolean;
}

type StartResult = { kind: 'ready'; own: OwnPostmaster; port: number } | { kind: 'exited'; reason: string };

async function startServer(o: {
  clusterDir: string;
  binaries: PostgresBinaries;
  owner: ClusterOwner | undefined;
  logger: Logger;
}): Promise<StartResult> {
  const port = await freePort();
  const args = ['-D', o.clusterDir, '-c', `port=${port}`];
  for (const [name, value] of SERVER_SETTINGS) args.push('-c', `${name}=${value}`);
  const started = Date.now();
  // Its own session: a terminal's Ctrl-C reaches the vault, which drains its requests before stopping it.
  const child = spawnAs(o.binaries.postgres, args, o.owner, true);
  const tail = relayOutput(o.logger, [child.stdout, child.stderr], { source: 'postgres', fallback: 'info' });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exited = err.message;
      resolve();
    });
    // 'close', not 'exit': the last lines of its output are relayed by then, for the message.
    child.once('close', (code, signal) => {
      exited = `exit ${code ?? signal}: ${tail.join(' | ')}`;
      resolve();
    });
  });
  for (;;) {
    if (exited !== undefined) return { kind: 'exited', reason: exited };
    const state = await readPostmaster(o.clusterDir);
    if (state && state.pid === child.pid && state.status === 'ready') {
      o.logger.info({ port, pid: child.pid, ms: Date.now() - started }, 'started the embedded PostgreSQL');
      return { kind: 'ready', own: { child, ended: () => exited !== undefined }, port };
    }
    await Promise.race([exit, sleep(25)]);
  }
}

interface PostmasterState {
  pid: number;
  port: number;
  status: string;
}

/** PostgreSQL's lock file: pid, data dir, start time, port, socket dir, listen address, shared memory, status. */
async function readPostmaster(clusterDir: string): Promise<PostmasterState | undefined> {
  const text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  // A file still being written has no status line yet: it reads as "starting".
  return { pid: Number(lines[0]), port: Number(lines[3]), status: (lines[7] ?? '').trim() || 'starting' };
}

/**
 * A running PostgreSQL process: alive, not a zombie (a postmaster whose starter died is reaped by whoever
 * adopted it, or not at all), and, where /proc tells, named postgres: after a reboot a stale postmaster.pid
 * may name a pid that some other program now has.
 */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    // No /proc (macOS): kill(pid, 0) is all there is.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const [, name, state] = /^\d+ \((.*)\) (\S)/.exec(stat) ?? [];
  return name === 'postgres' && state !== 'Z';
}

/** Connects and takes this process's shared lease; undefined when the cluster is not usable right now. */
async function takeLease(address: EmbeddedAddress, clusterDir: string, logger: Logger): Promise<Lease | undefined> {
  const lease: Lease = {
    client: new pg.Client({ ...address, connectionTimeoutMillis: 5_000, application_name: LEASE_APPLICATION }),
    stopping: false,
  };
  lease.client.on('error', (err) => {
    if (lease.stopping) return;
    logger.warn({ err }, 'the embedded PostgreSQL connection that marks this process as its user broke');
  });
  try {
    await lease.client.connect();
    const [row] = (
      await lease.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock_shared($1) AS ok', [LEASE_KEY])
    ).rows;
    if (row?.ok) return lease;
    logger.debug('the embedded PostgreSQL is being stopped by its last user: waiting to start it again');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '28P01' || code === '28000')
      throw new Error(
        `the embedded PostgreSQL in ${clusterDir} refuses the password in ${PASSWORD_FILE}: the file does not belong ` +
          'to this cluster (restore the one made with it)',
        { cause: err },
      );
    // Starting, recovering or stopping: the caller looks at postmaster.pid again.
    logger.debug({ err }, 'the embedded PostgreSQL is not accepting this connection yet');
  }
  await endLease(lease, logger);
  return undefined;
}

interface Lease {
  client: pg.Client;
  /** set while the connection is expected to break: its error is then no news */
  stopping: boolean;
}

function usage(
  first: Lease,
  o: { clusterDir: string; address: EmbeddedAddress; logger: Logger; own?: OwnPostmaster },
): EmbeddedCluster {
  let lease = first;
  let released: Promise<void> | undefined;
  // A lease lost with its connection (a backend crash makes PostgreSQL reset every session) is taken again:
  // without it, another process closing would find no user left and stop the cluster under this one.
  const keep = (held: Lease) => {
    held.client.once('end', () => {
      if (held.stopping || released) return;
      o.logger.warn('lost the lease on the embedded PostgreSQL with its connection: taking it again');
      void retake();
    });
  };
  const retake = async () => {
    while (!released) {
      let again: Lease | undefined;
      try {
        again = await takeLease(o.address, o.clusterDir, o.logger);
      } catch (err) {
        o.logger.error({ err }, 'cannot take the lease on the embedded PostgreSQL again');
        return;
      }
      if (again && released) return endLease(again, o.logger);
      if (again) {
        lease = again;
        keep(again);
        o.logger.info('took the lease on the embedded PostgreSQL again');
        return;
      }
      await sleep(1_000);
    }
  };
  keep(first);

  const release = async () => {
    const query = async (sql: string) =>
      (await lease.client.query<{ ok: boolean }>(sql, [LEASE_KEY])).rows[0]?.ok ?? false;
    let last: boolean;
    for (let attempt = 1; ; attempt++) {
      try {
        await query('SELECT pg_advisory_unlock_shared($1) AS ok');
        last = await query('SELECT pg_try_advisory_lock($1) AS ok');
        break;
      } catch (err) {
        // A lease connection broken just now is replaced once, so the last user still stops the cluster.
        const again = attempt === 1 ? await takeLease(o.address, o.clusterDir, o.logger) : undefined;
        if (again) {
          lease = again;
          continue;
        }
        // The cluster went away under us (killed, or stopped outside the vault): there is nothing left to stop.
        o.logger.warn({ err }, 'the embedded PostgreSQL was gone before this process released it');
        await endLease(lease, o.logger);
        detach(o.own);
        return;
      }
    }
    if (!last) {
      await endLease(lease, o.logger);
      if (o.own) {
        o.logger.info(
          { pid: o.own.child.pid },
          'leaving the embedded PostgreSQL running for the other vault processes that use it (the last one stops it);' +
            ' its output is no longer logged here',
        );
        detach(o.own);
      }
      return;
    }
    // The last user: stop it while holding the exclusive lock, so no newcomer takes a lease on a stopping server.
    lease.stopping = true;
    await stopServer(o.clusterDir, o.own, o.logger);
    await endLease(lease, o.logger);
  };
  return {
    address: o.address,
    release: () => {
      released ??= release();
      return released;
    },
  };
}

/** Closes a lease connection, which may already be broken (the server stopped or went away): that is expected. */
async function endLease(lease: Lease, logger: Logger): Promise<void> {
  lease.stopping = true;
  await lease.client.end().catch((err: unknown) => logger.debug({ err }, 'closing the lease connection'));
}

function detach(own: OwnPostmaster | undefined): void {
  if (!own) return;
  own.child.stdout?.destroy();
  own.child.stderr?.destroy();
  own.child.unref();
}

async function stopServer(clusterDir: string, own: OwnPostmaster | undefined, logger: Logger): Promise<void> {
  const state = await readPostmaster(clusterDir);
  const pid = own?.child.pid ?? state?.pid;
  if (pid === undefined || !isAlive(pid)) return;
  const gone = async () => {
    // Ours: once its output has closed, so its last lines are in the log before close() returns.
    if (own) return own.ended();
    const now = await readPostmaster(clusterDir);
    return now?.pid !== pid || !isAlive(pid);
  };
  // SIGINT is PostgreSQL's fast shutdown: sessions end, a checkpoint is written, the server exits.
  if (!signal(pid, 'SIGINT')) return;
  const deadline = Date.now() + 60_000;
  while (!(await gone())) {
    if (Date.now() > deadline) {
      logger.error(
        { pid },
        'the embedded PostgreSQL did not stop in 60 s: immediate shutdown (recovered at next start)',
      );
      signal(pid, 'SIGQUIT');
      break;
    }
    await sleep(25);
  }
  logger.info({ pid }, 'stopped the embedded PostgreSQL');
}

/** Sends a signal; false when the process is already gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
