import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWithRetry, VaultHttpError } from '../../src/client/http.js';

/** The phone's request loop (p-retry underneath) against a real local server that misbehaves on cue. */
describe('sendWithRetry', () => {
  let server: http.Server;
  let url: string;
  const hits = new Map<string, number>();
  const stalled = new Set<http.ServerResponse>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const json = (status: number, code: string, headers: Record<string, string> = {}) =>
        res
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(JSON.stringify({ error: { code, message: 'x' } }));
      if (path === '/flaky' && n <= 2) return json(503, 'unavailable', { 'retry-after': '0' });
      if (path === '/busy' && n === 1) return json(503, 'unavailable', { 'retry-after': '3600' });
      if (path === '/always-503') return json(503, 'unavailable', { 'retry-after': '0' });
      if (path === '/conflict') return json(409, 'chunk_conflict');
      if (path === '/bad') return json(400, 'invalid_chunk');
      if (path === '/damaged' && n <= 2) return json(400, 'digest_mismatch');
      if ((path === '/slow-once' && n === 1) || path === '/never') {
        stalled.add(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"ok":true,"attempt":${n}}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const r of stalled) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const fast = { attempts: 5, baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 5_000 };
  const get = (path: string, policy = fast) => sendWithRetry(fetch, `${url}${path}`, { method: 'GET' }, policy);

  it('retries 503 until it succeeds', async () => {
    const res = await get('/flaky');
    expect(res.status).toBe(200);
    expect(hits.get('/flaky')).toBe(3);
  });

  it('honours Retry-After only up to maxDelayMs (an hour-long hint does not stall the phone)', async () => {
    const res = await get('/busy');
    expect(await res.json()).toEqual({ ok: true, attempt: 2 });
  });

  it('retries 400 digest_mismatch (damaged on the way) but no other 400, nor a 409', async () => {
    expect((await get('/damaged')).status).toBe(200);
    expect(hits.get('/damaged')).toBe(3);
    expect((await get('/bad')).status).toBe(400);
    expect(hits.get('/bad')).toBe(1);
    expect((await get('/conflict')).status).toBe(409);
    expect(hits.get('/conflict')).toBe(1);
  });

  it('gives up after the last attempt with the last answer as a VaultHttpError', async () => {
    const err = await get('/always-503', { ...fast, attempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultHttpError);
    expect(err).toMatchObject({ status: 503, code: 'unavailable' });
    expect(hits.get('/always-503')).toBe(3);
  });

  it('abandons an attempt that gets no answer within timeoutMs and retries it', async () => {
    const res = await get('/slow-once', { ...fast, timeoutMs: 300 });
    expect(await res.json()).toEqual({ ok: true, attempt: 2 });
  });

  it('surfaces the timeout itself when no attempt is ever answered', async () => {
    const err = await get('/never', { ...fast, attempts: 2, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(hits.get('/never')).toBe(2);
  });

  it('surfaces a network error after its retries', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await sendWithRetry(
      fetch,
      `http://127.0.0.1:${port}/`,
      { method: 'GET' },
      { ...fast, attempts: 2 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
  });
});
