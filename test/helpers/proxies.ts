import http from 'node:http';
import net from 'node:net';

/** A TCP proxy on a free loopback port that can be cut (connections dropped, new ones refused) and restored. */
export async function startTcpProxy(target: {
  host: string;
  port: number;
}): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

export type FaultMode = 'pass' | '503' | 'drop' | 'stall' | 'corrupt';

/**
 * An HTTP proxy (in front of an S3 server, or of the vault) that fails a
 * fraction of requests: answering 503, dropping the connection, stalling
 * (never answering), or corrupting the request body in flight (one byte
 * flipped, length unchanged, headers untouched, then forwarded). `only`
 * limits the faults to some requests (e.g. chunk PUTs).
 */
export async function startFlakyHttpProxy(
  target: string,
  options: { fraction: number; modes: FaultMode[]; seed?: number; only?: (req: http.IncomingMessage) => boolean },
): Promise<{
  endpoint: string;
  failures: () => number;
  /** how many request bodies were corrupted */
  corrupted: () => number;
  setFraction(f: number): void;
  close(): Promise<void>;
}> {
  let seed = options.seed ?? 42;
  let fraction = options.fraction;
  let failures = 0;
  let corrupted = 0;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const upstream = new URL(target);
  const stalled = new Set<http.ServerResponse>();
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer) => {
    const upstreamReq = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstreamReq.on('error', () => res.destroy());
    if (body) upstreamReq.end(body);
    else req.pipe(upstreamReq);
  };
  const server = http.createServer((req, res) => {
    if ((options.only?.(req) ?? true) && random() < fraction) {
      failures++;
      const mode = options.modes[Math.floor(random() * options.modes.length)] ?? '503';
      if (mode === 'corrupt') {
        const at = random();
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => {
          const body = Buffer.concat(parts);
          if (body.length > 0) {
            const i = Math.floor(at * body.length);
            body[i] = (body[i] ?? 0) ^ 0x20;
            corrupted++;
          }
          forward(req, res, body);
        });
        return;
      }
      if (mode === '503') {
        req.resume();
        res
          .writeHead(503, { 'content-type': 'application/xml' })
          .end('<Error><Code>SlowDown</Code><Message>injected</Message></Error>');
        return;
      }
      if (mode === 'drop') {
        req.socket.destroy();
        return;
      }
      if (mode === 'stall') {
        stalled.add(res);
        req.resume();
        return;
      }
    }
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failures: () => failures,
    corrupted: () => corrupted,
    setFraction: (f) => {
      fraction = f;
    },
    async close() {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An HTTP proxy that forwards everything until `passPuts` PUT requests went
 * through, then holds every later PUT unanswered: a phone stuck mid-upload,
 * at a point the test knows. `held` resolves when the first PUT is held.
 */
export async function startHoldingProxy(
  target: string,
  options: { passPuts: number },
): Promise<{ endpoint: string; held: Promise<void>; close(): Promise<void> }> {
  const upstream = new URL(target);
  const holding = new Set<http.ServerResponse>();
  let puts = 0;
  let onHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    onHeld = resolve;
  });
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && ++puts > options.passPuts) {
      holding.add(res);
      req.resume();
      onHeld();
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    held,
    async close() {
      for (const r of holding) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
