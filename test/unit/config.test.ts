import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseDuration } from '../../src/durations.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['1m', 60_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['250ms', 250],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '7', 'd', '-1d', '1.5h', '7 days', '1w'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeNull(),
  );
});

describe('loadConfig', () => {
  it('has the SPEC defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.dataDir.endsWith('data')).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.s3).toBeUndefined();
    expect(c.retentionMs).toBe(7 * 86_400_000);
    expect(c.requestTtlMs).toBe(72 * 3_600_000);
    expect(c.grantTtlMs).toBe(24 * 3_600_000);
    expect(c.incompleteAfterMs).toBe(6 * 3_600_000);
    expect(c.sweepIntervalMs).toBe(60_000);
    expect(c.maxChunkBytes).toBe(4_194_304);
    expect(c.maxHoldMs).toBe(180 * 86_400_000);
    expect(c.epochKeys).toEqual({ kind: 'dir', dir: path.join(c.dataDir, 'epoch-keys') });
    expect(c.epochLengthMs).toBe(86_400_000);
    expect(c.backupWindowMs).toBe(35 * 86_400_000);
    expect(c.logOrigin).toBe('visit-vault.local/audit');
    expect(c.logSigningKey).toBeUndefined();
    expect(c.auditMaxDelayMs).toBe(1000);
    expect(c.checkpoints).toEqual({ kind: 'dir', dir: path.join(c.dataDir, 'checkpoints') });
    expect(c.requireSignedDecisions).toBe(true);
    expect(c.webhookAllowPrivate).toBe(false);
    expect(c.workers).toBe(1);
  });

  it('keeps epoch keys and checkpoints in a bucket only beside an S3 store, and in one place each', () => {
    const s3 = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'vault' };
    expect(loadConfig({ ...s3, VAULT_EPOCH_KEY_BUCKET: 'keys' }).epochKeys).toEqual({ kind: 'bucket', bucket: 'keys' });
    expect(loadConfig({ ...s3, VAULT_CHECKPOINT_BUCKET: 'cps' }).checkpoints).toEqual({
      kind: 'bucket',
      bucket: 'cps',
    });
    expect(() => loadConfig({ VAULT_EPOCH_KEY_BUCKET: 'keys' })).toThrow(/VAULT_EPOCH_KEY_BUCKET/);
    expect(() => loadConfig({ ...s3, VAULT_CHECKPOINT_DIR: '/x', VAULT_CHECKPOINT_BUCKET: 'cps' })).toThrow(
      /VAULT_CHECKPOINT_DIR and VAULT_CHECKPOINT_BUCKET/,
    );
  });

  it('refuses a log origin that cannot stand in a signed note', () => {
    expect(() => loadConfig({ VAULT_LOG_ORIGIN: 'has space' })).toThrow(/VAULT_LOG_ORIGIN/);
    expect(() => loadConfig({ VAULT_LOG_ORIGIN: 'a+b' })).toThrow(/VAULT_LOG_ORIGIN/);
    expect(loadConfig({ VAULT_LOG_ORIGIN: 'vault.example.com/audit' }).logOrigin).toBe('vault.example.com/audit');
  });

  it('reads the boolean switches', () => {
    const c = loadConfig({ VAULT_REQUIRE_SIGNED_DECISIONS: 'false', VAULT_WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(c.requireSignedDecisions).toBe(false);
    expect(c.webhookAllowPrivate).toBe(true);
    expect(() => loadConfig({ VAULT_REQUIRE_SIGNED_DECISIONS: 'yes' })).toThrow(/VAULT_REQUIRE_SIGNED_DECISIONS/);
  });

  it('reads S3 settings when an endpoint is set', () => {
    const c = loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'vault', S3_FORCE_PATH_STYLE: 'false' });
    expect(c.s3).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'vault',
      forcePathStyle: false,
      region: 'us-east-1',
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ VAULT_RETENTION: 'forever' })).toThrow(/VAULT_RETENTION/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ S3_ENDPOINT: 'http://x' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ VAULT_BOOTSTRAP_ADMIN_TOKEN: 'short' })).toThrow(/VAULT_BOOTSTRAP_ADMIN_TOKEN/);
  });

  it('never echoes a secret value in its error', () => {
    const secret = 'short-secret';
    try {
      loadConfig({ VAULT_BOOTSTRAP_ADMIN_TOKEN: secret });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain(secret);
    }
  });
});
