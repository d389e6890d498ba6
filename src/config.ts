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

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VAULT_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalText,
  S3_ENDPOINT: optionalText,
  S3_BUCKET: optionalText,
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
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
  return {
    port: e.PORT,
    dataDir: path.resolve(e.VAULT_DATA_DIR),
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
  };
}
