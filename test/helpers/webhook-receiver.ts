import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface VerifiedEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** A real HTTP receiver: answers with the next status of `plan` (then 204), keeps what arrived. */
export async function receiver(plan: number[] = []) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      res.statusCode = plan.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Verifies each received body with standardwebhooks (throws on a bad signature) and returns the events. */
export function verifyAll(secret: string, got: Received[]): VerifiedEvent[] {
  const wh = new Webhook(secret);
  return got.map(
    (g) =>
      wh.verify(g.body, {
        'webhook-id': String(g.headers['webhook-id']),
        'webhook-timestamp': String(g.headers['webhook-timestamp']),
        'webhook-signature': String(g.headers['webhook-signature']),
      }) as VerifiedEvent,
  );
}
