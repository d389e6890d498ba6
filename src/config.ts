import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './durations.js';

/** The only reader of process.env: everything else receives a Config. */

const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must look like 30s, 1m, 12h or 7d` });
        return z.NEVER;
      }
      return ms;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VAULT_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalText,
  S3_ENDPOINT: optionalText,
  S3_BUCKET: optionalText,
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  S3_FORCE_PATH_STYLE: flag(true),
  VAULT_KEKS: optionalText,
  VAULT_BOOTSTRAP_ADMIN_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 24, {
    message: 'must be at least 24 characters (use a random token)',
  }),
  VAULT_RETENTION: duration('VAULT_RETENTION', '7d'),
  VAULT_REQUEST_TTL: duration('VAULT_REQUEST_TTL', '72h'),
  VAULT_GRANT_TTL: duration('VAULT_GRANT_TTL', '24h'),
  VAULT_INCOMPLETE_AFTER: duration('VAULT_INCOMPLETE_AFTER', '6h'),
  VAULT_SWEEP_INTERVAL: duration('VAULT_SWEEP_INTERVAL', '1m'),
  VAULT_MAX_CHUNK_BYTES: z.coerce
    .number()
    .int()
    .min(64)
    .max(64 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  FFMPEG_PATH: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Proxies (load balancers) in front of the vault whose X-Forwarded-For is believed; 0 trusts none.
  VAULT_TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  VAULT_MAX_HOLD: duration('VAULT_MAX_HOLD', '180d'),
  VAULT_EPOCH_KEY_DIR: optionalText,
  VAULT_EPOCH_KEY_BUCKET: optionalText,
  VAULT_EPOCH_LENGTH: duration('VAULT_EPOCH_LENGTH', '1d'),
  VAULT_BACKUP_WINDOW: duration('VAULT_BACKUP_WINDOW', '35d'),
  // C2SP tlog-checkpoint: a schema-less URL, no spaces and no '+' (it is also the signed note's key name).
  VAULT_LOG_ORIGIN: z
    .string()
    .default('visit-vault.local/audit')
    .refine((v) => /^[\x21-\x2a\x2c-\x7e]{1,255}$/.test(v), {
      message: 'must be printable ASCII without spaces or +, like example.com/audit',
    }),
  VAULT_LOG_SIGNING_KEY: optionalText,
  VAULT_AUDIT_MAX_DELAY: duration('VAULT_AUDIT_MAX_DELAY', '1s'),
  VAULT_CHECKPOINT_DIR: optionalText,
  VAULT_CHECKPOINT_BUCKET: optionalText,
  VAULT_REQUIRE_SIGNED_DECISIONS: flag(true),
  VAULT_WEBHOOK_ALLOW_PRIVATE: flag(false),
  // HTTP worker processes on one machine (node:cluster); 1 runs the server in this process.
  VAULT_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
});

/** The names of every environment variable the vault reads (docker-compose tests check against it). */
export const CONFIG_ENV_NAMES = Object.keys(envSchema.shape);

export interface S3Config {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** Where a kind of file lives outside the database: a directory, or a bucket of the configured S3 store. */
export type OutsideStore = { kind: 'dir'; dir: string } | { kind: 'bucket'; bucket: string };

export interface Config {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  s3?: S3Config;
  keks?: string;
  bootstrapAdminToken?: string;
  retentionMs: number;
  requestTtlMs: number;
  grantTtlMs: number;
  incompleteAfterMs: number;
  sweepIntervalMs: number;
  maxChunkBytes: number;
  /** explicit ffmpeg binary; else ffmpeg-static's if installed, else `ffmpeg` on PATH (src/media) */
  ffmpegPath?: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** proxy hops whose X-Forwarded-For names the client (rate limits per client address) */
  trustProxyHops: number;
  /** the longest a single hold keeps a recording (a legal hold may be open-ended) */
  maxHoldMs: number;
  /** where epoch keys live: never inside the database or its backups */
  epochKeys: OutsideStore;
  epochLengthMs: number;
  /** age of the oldest database backup kept: an epoch key is destroyed this long after its epoch */
  backupWindowMs: number;
  /** the audit log's name in its checkpoints (C2SP origin line) */
  logOrigin: string;
  /** the log's Ed25519 seed, base64url; unset: generated once into the data dir */
  logSigningKey?: string;
  auditMaxDelayMs: number;
  /** where signed checkpoints are published outside the database */
  checkpoints: OutsideStore;
  requireSignedDecisions: boolean;
  webhookAllowPrivate: boolean;
  workers: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const s3Wanted = e.S3_ENDPOINT !== undefined || e.S3_BUCKET !== undefined;
  if (s3Wanted && e.S3_BUCKET === undefined)
    throw new ConfigError('invalid configuration:\n  S3_BUCKET: required when S3_ENDPOINT is set');
  const dataDir = path.resolve(e.VAULT_DATA_DIR);
  const outside = (
    name: string,
    dir: string | undefined,
    bucket: string | undefined,
    fallback: string,
  ): OutsideStore => {
    if (dir !== undefined && bucket !== undefined)
      throw new ConfigError(`invalid configuration:\n  ${name}_DIR and ${name}_BUCKET: set one, not both`);
    if (bucket !== undefined && !s3Wanted)
      throw new ConfigError(`invalid configuration:\n  ${name}_BUCKET: needs S3_ENDPOINT and S3_BUCKET`);
    return bucket !== undefined
      ? { kind: 'bucket', bucket }
      : { kind: 'dir', dir: path.resolve(dir ?? path.join(dataDir, fallback)) };
  };
  return {
    port: e.PORT,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    s3: s3Wanted
      ? {
          endpoint: e.S3_ENDPOINT,
          bucket: e.S3_BUCKET as string,
          region: e.S3_REGION,
          accessKeyId: e.S3_ACCESS_KEY_ID,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
        }
      : undefined,
    keks: e.VAULT_KEKS,
    bootstrapAdminToken: e.VAULT_BOOTSTRAP_ADMIN_TOKEN,
    retentionMs: e.VAULT_RETENTION,
    requestTtlMs: e.VAULT_REQUEST_TTL,
    grantTtlMs: e.VAULT_GRANT_TTL,
    incompleteAfterMs: e.VAULT_INCOMPLETE_AFTER,
    sweepIntervalMs: e.VAULT_SWEEP_INTERVAL,
    maxChunkBytes: e.VAULT_MAX_CHUNK_BYTES,
    ffmpegPath: e.FFMPEG_PATH,
    logLevel: e.LOG_LEVEL,
    trustProxyHops: e.VAULT_TRUST_PROXY,
    maxHoldMs: e.VAULT_MAX_HOLD,
    epochKeys: outside('VAULT_EPOCH_KEY', e.VAULT_EPOCH_KEY_DIR, e.VAULT_EPOCH_KEY_BUCKET, 'epoch-keys'),
    epochLengthMs: e.VAULT_EPOCH_LENGTH,
    backupWindowMs: e.VAULT_BACKUP_WINDOW,
    logOrigin: e.VAULT_LOG_ORIGIN,
    logSigningKey: e.VAULT_LOG_SIGNING_KEY,
    auditMaxDelayMs: e.VAULT_AUDIT_MAX_DELAY,
    checkpoints: outside('VAULT_CHECKPOINT', e.VAULT_CHECKPOINT_DIR, e.VAULT_CHECKPOINT_BUCKET, 'checkpoints'),
    requireSignedDecisions: e.VAULT_REQUIRE_SIGNED_DECISIONS,
    webhookAllowPrivate: e.VAULT_WEBHOOK_ALLOW_PRIVATE,
    workers: e.VAULT_WORKERS,
  };
}
