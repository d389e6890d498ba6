import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

/** Whatever object reaches a log call, the fields that carry secrets come out as [redacted]. */
describe('createLogger redaction', () => {
  it('censors tokens, keys, bodies and config secrets at the top level and one level down', async () => {
    const stream = new PassThrough();
    const out: string[] = [];
    stream.on('data', (d: Buffer) => out.push(d.toString('utf8')));
    const logger = createLogger({ level: 'info', destination: stream });
    const secret = 's3cr3t-value-that-must-not-appear';
    const fields = [
      'token',
      'key',
      'kek',
      'keks',
      'sealedContentKey',
      'contentKey',
      'secretKey',
      'wrappedSecretKey',
      'plaintext',
      'body',
      'bootstrapAdminToken',
      'secretAccessKey',
      'databaseUrl',
      'password',
    ];
    const flat = Object.fromEntries(fields.map((f) => [f, secret]));
    logger.info(flat, 'top level');
    logger.info(
      {
        config: flat,
        req: { headers: { authorization: `Bearer ${secret}`, cookie: secret }, body: secret },
        res: { body: secret },
      },
      'nested',
    );
    await new Promise((r) => setImmediate(r));
    const text = out.join('');
    expect(text.split('\n').filter((l) => l.includes(secret))).toEqual([]);
    const [top, nested] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const f of fields) expect(top![f], f).toBe('[redacted]');
    expect((nested!.config as Record<string, unknown>).keks).toBe('[redacted]');
  });
});
