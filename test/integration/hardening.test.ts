import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/http/console-routes.js';
import { bearer } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

describe('hardening', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('sends security headers on API answers', async () => {
    const res = await request(vault.server).get('/healthz');
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('gives the console its own strict CSP, uncached and without referrer, and leaves the API CSP alone', async () => {
    for (const [path, type] of [
      ['/console', 'text/html'],
      ['/console/app.js', 'text/javascript'],
      ['/console/styles.css', 'text/css'],
    ] as const) {
      const res = await request(vault.server).get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(`${type}; charset=utf-8`);
      expect(res.headers['content-security-policy'], path).toBe(CONSOLE_CSP);
      expect(res.headers['cache-control'], path).toBe('no-store');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
    }
    expect(CONSOLE_CSP).toBe(
      "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self' blob:; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const html = (await request(vault.server).get('/console')).text;
    expect(html, 'no inline script or style').not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
    // A valid token: a failed authentication here would count toward the limit tested below.
    for (const path of ['/v1/audit', '/healthz', '/console/nope']) {
      expect(
        (await request(vault.server).get(path).set(bearer(vault.adminToken))).headers['content-security-policy'],
        path,
      ).toBe("default-src 'none';frame-ancestors 'none'");
    }
  });

  it('counts HTTP answers by route pattern in /metrics', async () => {
    await request(vault.server).get('/v1/recordings/rec_x/upload-state').set(bearer(vault.adminToken));
    const text = (await request(vault.server).get('/metrics')).text;
    expect(text).toContain(
      'vault_http_requests_total{method="GET",route="/v1/recordings/:recordingId/upload-state",status="403"} 1',
    );
    expect(text).not.toContain('rec_x');
  });

  it('never counts valid tokens, not even many in flight at once', async () => {
    const auditor = await vault.addPrincipal({ id: 'busy-auditor', roles: ['auditor'] });
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => request(vault.server).get('/v1/audit?limit=1').set(bearer(auditor))),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
  });

  it('answers 429 to failed authentications past 100 from one address, while valid tokens still work', async () => {
    for (let i = 0; i < 100; i++) {
      expect(
        (
          await request(vault.server)
            .get('/v1/audit')
            .set(bearer(`vv_guess-${String(i).padStart(24, '0')}`))
        ).status,
      ).toBe(401);
    }
    const res = await request(vault.server).get('/v1/audit').set(bearer('vv_guess-one-more-000000000000000'));
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('rate_limited');
    expect(res.headers['ratelimit-policy'] ?? res.headers.ratelimit).toBeDefined();
    expect((await request(vault.server).get('/v1/audit').set('authorization', 'Basic nope')).status).toBe(429);
    const auditor = await vault.addPrincipal({ id: 'late-auditor', roles: ['auditor'] });
    expect((await request(vault.server).get('/v1/audit?limit=1').set(bearer(auditor))).status).toBe(200);
    expect((await request(vault.server).get('/readyz')).status).toBe(200);
  });
});

describe('admin route limit', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('answers 429 past 120 principal-management requests a minute from one address, leaving other routes alone', async () => {
    for (let i = 0; i < 120; i++) {
      expect(
        (await request(vault.server).delete(`/v1/principals/nobody-${i}`).set(bearer(vault.adminToken))).status,
      ).toBe(404);
    }
    const limited = await request(vault.server)
      .post('/v1/principals')
      .set(bearer(vault.adminToken))
      .send({ id: 'late', name: 'Late', department: 'ops', roles: ['auditor'] });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const [row] = await vault.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM principals WHERE id = 'late'`,
    );
    expect(row?.n).toBe(0);
    expect((await request(vault.server).get('/v1/audit/verify').set(bearer(vault.adminToken))).status).toBe(403);
  });
});

describe('failed-authentication limit and X-Forwarded-For', () => {
  const guess = (vault: TestVault, forwardedFor: string, i: number) =>
    request(vault.server)
      .get('/v1/audit')
      .set('x-forwarded-for', forwardedFor)
      .set(bearer(`vv_guess-${String(i).padStart(24, '0')}`));

  it('cannot be dodged by a made-up X-Forwarded-For when no proxy is trusted (the default)', async () => {
    const vault = await startTestVault('postgres+fs');
    try {
      for (let i = 0; i < 100; i++) expect((await guess(vault, `198.51.100.${i}`, i)).status).toBe(401);
      expect((await guess(vault, '203.0.113.250', 100)).status).toBe(429);
    } finally {
      await vault.close();
    }
  });

  it('holds across servers on one database: two servers together allow 100 failures, not 100 each', async () => {
    const first = await startTestVault('postgres+fs');
    const second = await startTestVault('postgres+fs', {}, { stores: first.stores });
    try {
      for (let i = 0; i < 100; i++) expect((await guess(i % 2 ? first : second, '198.51.100.1', i)).status).toBe(401);
      expect((await guess(first, '198.51.100.1', 100)).status).toBe(429);
      expect((await guess(second, '198.51.100.1', 101)).status).toBe(429);
      const [row] = await first.deps.db.query<{ hits: number }>(
        `SELECT hits FROM rate_limit_hits WHERE limiter = 'auth'`,
      );
      expect(row?.hits).toBe(102);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('counts per forwarded client behind a trusted proxy (VAULT_TRUST_PROXY=1)', async () => {
    const vault = await startTestVault('postgres+fs', { VAULT_TRUST_PROXY: '1' });
    try {
      for (let i = 0; i < 100; i++) expect((await guess(vault, '198.51.100.7', i)).status).toBe(401);
      expect((await guess(vault, '198.51.100.7', 100)).status).toBe(429);
      // Another phone behind the same load balancer is not punished for the first one's failures.
      expect((await guess(vault, '203.0.113.9', 101)).status).toBe(401);
    } finally {
      await vault.close();
    }
  });
});
