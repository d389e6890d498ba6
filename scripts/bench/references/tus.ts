/**
 * The peer: tus-node-server (@tus/server) with its file store, made durable.
 * @tus/file-store writes through a WriteStream and fs.writeFile and never
 * fsyncs, so an acknowledged upload could vanish in a crash. For a fair
 * comparison with the vault (which acknowledges only what is durable), this
 * store fsyncs the upload's metadata file and directory when the upload is
 * created, and the data file after its bytes are written, before the answer.
 * Each phone chunk is one creation-with-upload POST.
 */
import { open } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { Server as TusServer, type Upload } from '@tus/server';
import type { Reference } from './bare-http.js';

async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class DurableFileStore extends FileStore {
  override async create(file: Upload): Promise<Upload> {
    const created = await super.create(file);
    await fsyncPath(path.join(this.directory, `${file.id}.json`));
    await fsyncPath(this.directory);
    return created;
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const written = await super.write(readable, id, offset);
    await fsyncPath(path.join(this.directory, id));
    return written;
  }
}

export async function startTus(directory: string): Promise<Reference> {
  const tus = new TusServer({ path: '/files', datastore: new DurableFileStore({ directory }) });
  const server: Server = createServer((req, res) => {
    void tus.handle(req, res);
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
