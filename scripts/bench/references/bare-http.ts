/**
 * The ingest ceiling: a bare node:http server that reads a chunk's body and
 * writes it with the same durable write the vault uses (BlobStore.put: on the
 * filesystem a temp file, fsync, rename and directory fsync; on S3 one
 * completed PutObject), then answers 201. No auth, no database, no audit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BlobStore } from '../../../src/store/blobs/blob-store.js';

const ROUTE = /^\/objects\/([A-Za-z0-9_-]{1,80})\/(\d{1,9})$/;

export interface Reference {
  base: string;
  close(): Promise<void>;
}

export async function startBareHttp(blobs: BlobStore): Promise<Reference> {
  const server: Server = createServer((req, res) => {
    const match = req.method === 'PUT' ? ROUTE.exec(req.url ?? '') : null;
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      blobs.put(`bare/${match[1]}/${match[2]}`, Buffer.concat(parts)).then(
        () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
