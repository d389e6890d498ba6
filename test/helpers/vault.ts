import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { getSodium, toBase64Url } from '../../src/crypto/sodium.js';
import type { Principal, Role } from '../../src/domain/principal.js';
import { bootstrapAdmin } from '../../src/domain/principals.js';
import { createLogger } from '../../src/logger.js';
import type { BlobStore } from '../../src/store/blobs/blob-store.js';
import { createFilesystemBlobStore } from '../../src/store/blobs/filesystem.js';
import { createS3BlobStore } from '../../src/store/blobs/s3.js';
import type { Database } from '../../src/store/db/database.js';
import { openVault, type Vault } from '../../src/vault.js';
import { freshPostgresSchema } from './postgres.js';
import { startS3Server } from './s3.js';

/** The two store pairs every integration suite runs on: real PostgreSQL beside each object store. */
export type StorePair = 'postgres+fs' | 'postgres+s3';
export const STORE_PAIRS: StorePair[] = ['postgres+fs', 'postgres+s3'];

export const TEST_ADMIN_TOKEN = 'vv_test-admin-token-0123456789abcdef';
/** The tests' audit log key (a fixed Ed25519 seed, base64url), so verifiers in tests can pin it. */
export const TEST_LOG_SEED = Buffer.alloc(32, 7).toString('base64url');

export interface Stores {
  db: Database;
  blobs: BlobStore;
  /** the PostgreSQL schema of this pair, for a second connection to the same data */
  postgresSchema: string;
  /**
   * Where this pair keeps its epoch keys, as environment for loadConfig: a directory beside
   * the objects, or a bucket of its own on the same S3 server. Every vault on these stores uses it.
   */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh PostgreSQL schema of its own (migrated) and an object store: files in dataDir, or a real S3 server. */
export async function openStores(pair: StorePair, dataDir: string): Promise<Stores> {
  const pg = await freshPostgresSchema();
  if (pair === 'postgres+fs') {
    const blobs = await createFilesystemBlobStore(path.join(dataDir, 'objects'));
    // Outside the data dir, as production keeps it (README, Retention and shredding).
    const epochKeys = await mkdtemp(path.join(os.tmpdir(), 'vault-epoch-keys-'));
    // Published checkpoints live outside the database, shared by every server on these stores.
    const checkpoints = await mkdtemp(path.join(os.tmpdir(), 'vault-checkpoints-'));
    return {
      db: pg.db,
      blobs,
      postgresSchema: pg.schema,
      env: { VAULT_EPOCH_KEY_DIR: epochKeys, VAULT_CHECKPOINT_DIR: checkpoints },
      cleanup: async () => {
        await blobs.close();
        await pg.cleanup();
        await rm(epochKeys, { recursive: true, force: true });
        await rm(checkpoints, { recursive: true, force: true });
      },
    };
  }
  const s3 = await startS3Server();
  const blobs = await createS3BlobStore({ config: s3.config, createBucket: true });
  return {
    db: pg.db,
    blobs,
    postgresSchema: pg.schema,
    env: {
      S3_ENDPOINT: s3.config.endpoint ?? '',
      S3_BUCKET: s3.config.bucket,
      S3_REGION: s3.config.region,
      S3_ACCESS_KEY_ID: s3.config.accessKeyId ?? '',
      S3_SECRET_ACCESS_KEY: s3.config.secretAccessKey ?? '',
      S3_FORCE_PATH_STYLE: 'true',
      VAULT_EPOCH_KEY_BUCKET: `${s3.config.bucket}-epoch-keys`,
      VAULT_CHECKPOINT_BUCKET: `${s3.config.bucket}-checkpoints`,
    },
    cleanup: async () => {
      await blobs.close();
      await s3.stop();
      await pg.cleanup();
    },
  };
}

export interface TestVault {
  deps: Vault;
  clock: ManualClock;
  config: Config;
  stores: Stores;
  server: Server;
  baseUrl: string;
  adminToken: string;
  /** Creates a principal through the API (as the admin) and returns its token. */
  addPrincipal(p: { id: string; roles: Role[]; department?: string; name?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function fixedKeks(versions: number[] = [1]): Promise<string> {
  const sodium = await getSodium();
  return versions.map((v) => `${v}:${toBase64Url(sodium.crypto_generichash(32, `test-kek-${v}`, null))}`).join(',');
}

/** `options.stores` runs this vault on another's stores (a second server); they stay open when it closes. */
export async function startTestVault(
  pair: StorePair,
  env: Record<string, string> = {},
  options: { stores?: Stores /** capture the app's JSON log lines */; logStream?: Writable } = {},
): Promise<TestVault> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-test-'));
  const stores = options.stores ?? (await openStores(pair, dataDir));
  const config = loadConfig({
    VAULT_DATA_DIR: dataDir,
    VAULT_KEKS: await fixedKeks(),
    VAULT_LOG_SIGNING_KEY: TEST_LOG_SEED,
    LOG_LEVEL: 'silent',
    ...stores.env,
    ...env,
  });
  const clock = new ManualClock(new Date());
  const logger = options.logStream
    ? createLogger({ level: 'trace', destination: options.logStream })
    : pino({ level: 'silent' });
  const deps = await openVault(config, { logger, clock, stores, defaultMetrics: false });
  await bootstrapAdmin(deps, TEST_ADMIN_TOKEN);
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    deps,
    clock,
    config,
    stores,
    server,
    baseUrl,
    adminToken: TEST_ADMIN_TOKEN,
    async addPrincipal(p) {
      const principal: Principal = {
        id: p.id,
        name: p.name ?? p.id,
        department: p.department ?? 'operations',
        roles: p.roles,
      };
      const res = await fetch(`${baseUrl}/v1/principals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(principal),
      });
      if (res.status !== 201) throw new Error(`addPrincipal ${p.id}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
      if (!options.stores) await stores.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
