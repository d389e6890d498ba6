import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDataDir, stopLeftoverCluster } from '../helpers/embedded.js';
import { freshPostgresDatabase } from '../helpers/postgres.js';
import { startS3Server } from '../helpers/s3.js';
import { embeddedEnv, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { fixedKeks } from '../helpers/vault.js';

const run = promisify(execFile);

/**
 * `npm run build` and the compiled server as the Docker image runs it: plain
 * node on dist/server.js, with a hook that fails the start should it load a
 * dev dependency (tsx, esbuild), as the image's pruned node_modules would.
 * Both configurations write nothing but JSON lines to stdout and stderr.
 */
const BUILT_SERVER = ['--import', './test/helpers/forbid-dev-dependencies.mjs', 'dist/server.js'];

/** Every line parses as one JSON object: the log collector's contract. */
function expectJsonLines(lines: string[]) {
  expect(lines.length).toBeGreaterThan(0);
  const notJson = lines.filter((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed !== 'object' || parsed === null;
    } catch {
      return true;
    }
  });
  expect(notJson).toEqual([]);
}

async function stopCleanly(server: ServerProcess) {
  expect(await server.stop()).toBe(0);
}

describe('the compiled server (npm run build, node dist/server.js)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    await run('npm', ['run', 'build'], { timeout: 240_000, maxBuffer: 8 * 1024 * 1024 });
  }, 300_000);
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('builds only the server: migrations and the bundled console beside it, no tests or scripts', async () => {
    for (const file of [
      'server.js',
      'cli/main.js',
      'store/db/migrations/001_init.sql',
      'console/index.html',
      'console/app.js',
    ])
      expect(existsSync(path.join('dist', file)), file).toBe(true);
    for (const dir of ['test', 'scripts', 'src']) expect(existsSync(path.join('dist', dir)), dir).toBe(false);
    const migrations = (await readFile('dist/store/db/migrations/001_init.sql', 'utf8')).length;
    expect(migrations).toBe((await readFile('src/store/db/migrations/001_init.sql', 'utf8')).length);
  });

  it('serves on the embedded defaults without tsx or esbuild, console included, and stops cleanly', async () => {
    const dataDir = await embeddedDataDir('vault-built-');
    cleanups.push(async () => {
      await stopLeftoverCluster(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    });
    const server = await startServerProcess(embeddedEnv({ VAULT_DATA_DIR: dataDir }), undefined, BUILT_SERVER);
    const page = await fetch(`${server.baseUrl}/console`);
    expect(page.status).toBe(200);
    const script = await fetch(`${server.baseUrl}/console/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toBe(await readFile('dist/console/app.js', 'utf8'));
    await stopCleanly(server);
    expectJsonLines(server.lines);
    const listening = server.lines.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg);
    expect(listening).toContainEqual(
      expect.stringMatching(/^visit vault listening on http:\/\/localhost:\d+ \(console: /),
    );
    expect(listening).toContainEqual(expect.stringMatching(/^no admin exists yet: .*VAULT_BOOTSTRAP_ADMIN_TOKEN/));
  });

  it('serves on PostgreSQL and S3 with JSON lines only (no SDK or driver warnings)', async () => {
    const dataDir = await embeddedDataDir('vault-built-s3-');
    const s3 = await startS3Server();
    const database = await freshPostgresDatabase();
    cleanups.push(async () => {
      await database.drop();
      await s3.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    const server = await startServerProcess(
      {
        ...process.env,
        NODE_ENV: 'production',
        VAULT_DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        S3_ENDPOINT: s3.config.endpoint,
        S3_BUCKET: s3.config.bucket,
        S3_REGION: s3.config.region,
        S3_ACCESS_KEY_ID: s3.config.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.config.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        VAULT_KEKS: await fixedKeks([1]),
        VAULT_BOOTSTRAP_ADMIN_TOKEN: 'vv_built-server-admin-token-0123456789',
      },
      undefined,
      BUILT_SERVER,
    );
    const created = await fetch(`${server.baseUrl}/v1/principals`, {
      method: 'POST',
      headers: { authorization: 'Bearer vv_built-server-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'platform', name: 'Platform', department: 'booking', roles: ['platform'] }),
    });
    expect(created.status).toBe(201);
    await stopCleanly(server);
    expectJsonLines(server.lines);
    expect(server.lines.join('\n')).not.toMatch(/no admin exists yet/);
  });
});
