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

export type FaultMode = 'pass' | '503' | 'drop' | 'stall';

/**
 * An HTTP proxy in front of an S3 server that fails a fraction of requests:
 * answering 503, dropping the connection, or stalling (never answering).
 */
export async function startFlakyHttpProxy(
  target: string,
  options: { fraction: number; modes: FaultMode[]; seed?: number },
): Promise<{ endpoint: string; failures: () => number; setFraction(f: number): void; close(): Promise<void> }> {
  let seed = options.seed ?? 42;
  let fraction = options.fraction;
  let failures = 0;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const upstream = new URL(target);
  const stalled = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (random() < fraction) {
      failures++;
      const mode = options.modes[Math.floor(random() * options.modes.length)] ?? '503';
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
    failures: () => failures,
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
