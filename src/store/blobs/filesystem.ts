import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore, ByteRange, CallOptions, DeleteOutcome, ObjectMetadata } from './blob-store.js';
import { createDurableWrites, TEMP_SUFFIX } from './durable-writes.js';
import { assertSafeKey } from './keys.js';

const isErrno = (err: unknown, code: string): boolean =>
  typeof err === 'object' && err !== null && 'code' in err && (err as NodeJS.ErrnoException).code === code;

function checkSignal(signal?: AbortSignal): void {
  signal?.throwIfAborted();
}

/**
 * The embedded default: one file per object under `root`. A put writes a temp
 * file, fsyncs it, renames it over the final name and fsyncs the directory, so
 * an object is either absent or whole, even across a crash; the whole write is
 * one call on a worker thread (durable-writes.ts).
 */
export async function createFilesystemBlobStore(rootDir: string): Promise<BlobStore> {
  const root = path.resolve(rootDir);
  await mkdir(root, { recursive: true });
  const writes = createDurableWrites();

  const resolve = (key: string, prefix = false): string => {
    assertSafeKey(key, { prefix });
    const full = path.resolve(root, key);
    if (full !== root && !full.startsWith(root + path.sep)) throw new Error('object key escapes the store');
    return full;
  };

  async function walk(dir: string, out: string[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, out);
      else if (e.isFile() && !e.name.endsWith(TEMP_SUFFIX))
        out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  }

  const store: BlobStore = {
    async put(key: string, body: Uint8Array, options?: CallOptions): Promise<void> {
      const final = resolve(key);
      checkSignal(options?.signal);
      await writes.write(final, body);
    },

    async get(key: string, options?: CallOptions & { range?: ByteRange }): Promise<Buffer | null> {
      const file = resolve(key);
      checkSignal(options?.signal);
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return null;
        throw err;
      }
      try {
        if (!options?.range) return await handle.readFile();
        const { start, end } = options.range;
        const size = (await handle.stat()).size;
        const last = Math.min(end, size - 1);
        if (start > last) return Buffer.alloc(0);
        const buf = Buffer.alloc(last - start + 1);
        let read = 0;
        while (read < buf.length) {
          const { bytesRead } = await handle.read(buf, read, buf.length - read, start + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return buf.subarray(0, read);
      } finally {
        await handle.close();
      }
    },

    async head(key: string, options?: CallOptions): Promise<ObjectMetadata | null> {
      const file = resolve(key);
      checkSignal(options?.signal);
      try {
        const s = await stat(file);
        return { key, size: s.size, lastModified: s.mtime };
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return null;
        throw err;
      }
    },

    async delete(key: string, options?: CallOptions): Promise<DeleteOutcome> {
      const file = resolve(key);
      checkSignal(options?.signal);
      try {
        await unlink(file);
        return 'DELETED';
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return 'NOT_FOUND';
        throw err;
      }
    },

    async list(prefix: string, options?: CallOptions): Promise<string[]> {
      resolve(prefix, true);
      checkSignal(options?.signal);
      // Walk only the deepest directory the prefix names, then filter by the full prefix.
      const slash = prefix.lastIndexOf('/');
      const base = slash >= 0 ? path.join(root, prefix.slice(0, slash)) : root;
      const keys: string[] = [];
      await walk(base, keys);
      return keys.filter((k) => k.startsWith(prefix)).sort();
    },

    async deletePrefix(prefix: string, options?: CallOptions): Promise<number> {
      const keys = await store.list(prefix, options);
      let deleted = 0;
      for (const key of keys) {
        checkSignal(options?.signal);
        if ((await store.delete(key)) === 'DELETED') deleted += 1;
      }
      if (prefix.endsWith('/')) {
        // Tidy the now-empty directory; a concurrent writer may have refilled it.
        await rmdir(resolve(prefix, true)).catch((err: unknown) => {
          if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTEMPTY')) throw err;
        });
      }
      return deleted;
    },

    async ping(): Promise<void> {
      await stat(root);
    },

    async close(): Promise<void> {
      await writes.close();
    },
  };
  return store;
}
