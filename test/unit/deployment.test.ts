import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_NAMES, loadConfig } from '../../src/config.js';
import { parseDuration } from '../../src/durations.js';
import { SHUTDOWN_DEADLINE_MS } from '../../src/shutdown.js';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  entrypoint?: string[];
  stop_grace_period?: string;
}

/** No Docker engine runs here: check the compose wiring and the Dockerfile by reading them. */
describe('docker-compose.yml', () => {
  const load = async () =>
    parse(await readFile('docker-compose.yml', 'utf8')) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };

  it('wires the vault to healthy PostgreSQL and MinIO, after the bucket exists', async () => {
    const { services, volumes } = await load();
    expect(Object.keys(services).sort()).toEqual(['minio', 'minio-bucket', 'postgres', 'vault']);
    const vault = services.vault!;
    expect(vault.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy' },
      'minio-bucket': { condition: 'service_completed_successfully' },
    });
    for (const name of ['vault', 'postgres', 'minio']) expect(services[name]!.healthcheck, name).toBeDefined();
    expect(vault.ports).toEqual(['8080:8080']);
    for (const [name, svc] of Object.entries(services)) {
      for (const v of svc.volumes ?? []) expect(Object.keys(volumes), `${name} volume ${v}`).toContain(v.split(':')[0]);
    }
    expect(vault.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(vault.environment?.S3_ENDPOINT).toBe('http://minio:9000');
    expect(services['minio-bucket']!.entrypoint).toBeDefined();
  });

  it('gives the vault only environment names its config knows, and a valid config', async () => {
    const env = (await load()).services.vault!.environment ?? {};
    expect(Object.keys(env).filter((k) => !CONFIG_ENV_NAMES.includes(k))).toEqual([]);
    const literal = Object.fromEntries(Object.entries(env).filter(([, v]) => !v.includes('${')));
    expect(() => loadConfig({ ...literal, S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' })).not.toThrow();
    expect(loadConfig(literal).s3?.bucket).toBe('visit-vault');
  });

  it('starts on the values compose gives it: defaults filled in, only VAULT_KEKS required from the operator', async () => {
    const env = (await load()).services.vault!.environment ?? {};
    // Compose's own interpolation: ${NAME:-default} and ${NAME:?message}.
    const interpolate = (value: string, given: Record<string, string>) =>
      value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
        if (given[name]) return given[name];
        if (op === '?') throw new Error(`compose requires ${name}: ${arg}`);
        return op === '-' ? arg : '';
      });
    expect(() => Object.values(env).map((v) => interpolate(v, {}))).toThrow(/compose requires VAULT_KEKS/);
    const given = { VAULT_KEKS: `1:${'A'.repeat(43)}` };
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, given)]));
    const config = loadConfig(resolved);
    expect(config.databaseUrl).toMatch(/^postgres:\/\/vault:.+@postgres:5432\/vault$/);
    expect(config.s3).toMatchObject({ endpoint: 'http://minio:9000', bucket: 'visit-vault', forcePathStyle: true });
    expect(config.bootstrapAdminToken).toBeUndefined();
    expect(config.retentionMs).toBe(7 * 24 * 3_600_000);
    // The bucket the one-shot job creates is the one the vault uses, with the same MinIO credentials.
    const services = (await load()).services;
    expect(services['minio-bucket']!.entrypoint!.join(' ')).toContain(`local/${config.s3!.bucket}`);
    expect(env.S3_ACCESS_KEY_ID).toBe(services.minio!.environment!.MINIO_ROOT_USER);
    expect(env.S3_SECRET_ACCESS_KEY).toBe(services.minio!.environment!.MINIO_ROOT_PASSWORD);
    const pg = Object.fromEntries(
      Object.entries(services.postgres!.environment!).map(([k, v]) => [k, interpolate(v, given)]),
    );
    expect(config.databaseUrl).toBe(
      `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`,
    );
  });

  it('pins every image by version from a registry that publishes it, never :latest', async () => {
    const { services } = await load();
    const text = await readFile('docker-compose.yml', 'utf8');
    expect(text).not.toMatch(/:latest\b/);
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      // name:tag, the tag naming a version (a digit in it), not a moving one.
      expect(svc.image, name).toMatch(/^[a-z0-9./-]+:[\w.-]*\d[\w.-]*$/);
    }
    // MinIO's images left Docker Hub: its own registry, quay.io, keeps the release tags.
    expect(services.minio!.image).toMatch(/^quay\.io\/minio\/minio:RELEASE\./);
    expect(services['minio-bucket']!.image).toMatch(/^quay\.io\/minio\/mc:RELEASE\./);
  });

  it('gives the vault longer to stop than its own drain, so compose never kills a stream it is finishing', async () => {
    const grace = (await load()).services.vault!.stop_grace_period;
    expect(grace).toBeDefined();
    expect(parseDuration(grace!)).toBeGreaterThanOrEqual(SHUTDOWN_DEADLINE_MS + 10_000);
  });
});

describe('Dockerfile', () => {
  it('builds on Node 22 pinned by version and runs the compiled server under tini, dev dependencies pruned', async () => {
    const text = await readFile('Dockerfile', 'utf8');
    const bases = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    for (const base of bases) expect(base).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
    expect(new Set(bases).size).toBe(1);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      engines: { node: string };
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe('>=22');
    // The image's node_modules: production dependencies only, which must not need a TypeScript runtime.
    expect(text).toMatch(/npm ci --omit=dev/);
    for (const dev of ['tsx', 'esbuild', 'typescript']) expect(Object.keys(pkg.dependencies)).not.toContain(dev);
    expect(text).toMatch(/npm run build/);
    expect(text).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(/^ENTRYPOINT (.*)$/m.exec(text)?.[1]).toBe('["/usr/bin/tini", "--"]');
    expect(/^CMD (.*)$/m.exec(text)?.[1]).toBe('["node", "dist/server.js"]');
  });

  it('is multi-stage, installs Debian ffmpeg and runs as a non-root user', async () => {
    const text = await readFile('Dockerfile', 'utf8');
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/apt-get install[^\n]*ffmpeg/);
    const user = /^USER (\S+)/m.exec(text)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(text).toMatch(/HEALTHCHECK/);
    // ENV names the image sets for the vault are config names (NODE_ENV is Node's own).
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(text)?.[1] ?? '';
    const names = [...envBlock.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['PORT', 'VAULT_DATA_DIR']));
    expect(names.filter((n) => n !== 'NODE_ENV' && !CONFIG_ENV_NAMES.includes(n))).toEqual([]);
  });

  it('never sends the local data dir (dev KEK, database), node_modules or .env files to the build', async () => {
    const ignored = (await readFile('.dockerignore', 'utf8')).split('\n').map((l) => l.trim());
    for (const entry of ['data', 'node_modules', '.env', '.git']) expect(ignored, entry).toContain(entry);
  });
});
