import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffMs, fetchWithRetry } from '../../src/client/http.js';

describe('backoff', () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  it('grows exponentially with full jitter, capped', () => {
    expect(backoffMs(policy, 0, null, () => 0.999)).toBe(99);
    expect(backoffMs(policy, 3, null, () => 0.999)).toBe(799);
    expect(backoffMs(policy, 10, null, () => 0.999)).toBe(999);
    expect(backoffMs(policy, 10, null, () => 0)).toBe(0);
  });
  it('honours Retry-After seconds, capped by maxDelayMs', () => {
    expect(backoffMs(policy, 0, '0', () => 0.5)).toBe(0);
    expect(backoffMs(policy, 0, '30', () => 0.5)).toBe(1000);
    expect(backoffMs(policy, 0, 'soon', () => 0)).toBe(0);
  });
});

describe('fetchWithRetry against a real local server', () => {
  let server: http.Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === '/flaky' && hits <= 2) {
        res
          .writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' })
          .end('{"error":{"code":"unavailable","message":"x"}}');
      } else if (req.url === '/conflict') {
        res
          .writeHead(409, { 'content-type': 'application/json' })
          .end('{"error":{"code":"chunk_conflict","message":"x"}}');
      } else res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries 503 with Retry-After until it succeeds', async () => {
    hits = 0;
    const res = await fetchWithRetry(
      fetch,
      `${url}/flaky`,
      { method: 'GET' },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 10 },
    );
    expect(res.status).toBe(200);
    expect(hits).toBe(3);
  });

  it('does not retry a 409', async () => {
    hits = 0;
    const res = await fetchWithRetry(
      fetch,
      `${url}/conflict`,
      { method: 'GET' },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 10 },
    );
    expect(res.status).toBe(409);
    expect(hits).toBe(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    hits = -100;
    await expect(
      fetchWithRetry(fetch, `${url}/flaky`, { method: 'GET' }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }),
    ).rejects.toMatchObject({ status: 503, code: 'unavailable' });
  });
});
