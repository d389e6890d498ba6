import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WriteFailure, WriteJob, WriteReply } from './durable-write.worker.js';

/**
 * @module A few worker threads that each run the filesystem store's whole
 * durable write (durable-write.worker.ts) in one call. Threads are made on
 * first use and hold the process open only while a write is in flight.
 */

export const TEMP_SUFFIX = '.partial';

export interface DurableWrites {
  /** Resolves once `body` is durably at `final` (temp file, fsync, rename, directory fsync). */
  write(final: string, body: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

// Compiled (dist) the worker is a .js beside this file; run from source (tsx, vitest) Node strips the .ts itself.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './durable-write.worker.ts' : './durable-write.worker.js',
  import.meta.url,
);

function toError(f: WriteFailure): Error {
  const err: NodeJS.ErrnoException = new Error(f.message);
  if (f.code) err.code = f.code;
  if (f.syscall) err.syscall = f.syscall;
  if (f.cleanup)
    return new AggregateError(
      [err, new Error(f.cleanup)],
      'an object write failed and its temp file could not be removed',
    );
  return err;
}

export function createDurableWrites(options: { threads?: number } = {}): DurableWrites {
  const size = Math.max(1, options.threads ?? 4);
  const threads: (Thread | undefined)[] = new Array(size).fill(undefined);
  let nextId = 0;
  let closed = false;

  const start = (slot: number): Thread => {
    const worker = new Worker(WORKER_URL, { workerData: 'visit-vault/durable-write' });
    const thread: Thread = { worker, pending: new Map() };
    worker.unref();
    const failAll = (err: Error) => {
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
      if (threads[slot] === thread) threads[slot] = undefined;
    };
    worker.on('message', (reply: WriteReply) => {
      const p = thread.pending.get(reply.id);
      if (!p) return;
      thread.pending.delete(reply.id);
      if (thread.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve();
      else p.reject(toError(reply.error));
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the durable-write thread exited (${code})`)));
    threads[slot] = thread;
    return thread;
  };

  /** The thread with the fewest writes in hand, started if its slot is empty. */
  const pick = (): Thread => {
    let best = -1;
    let load = Number.POSITIVE_INFINITY;
    for (let i = 0; i < size; i++) {
      const n = threads[i]?.pending.size ?? 0;
      if (n < load) {
        best = i;
        load = n;
      }
    }
    return threads[best] ?? start(best);
  };

  return {
    write(final, body) {
      if (closed) return Promise.reject(new Error('the durable writer is closed'));
      const thread = pick();
      const id = nextId++;
      const temp = `${final}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
      return new Promise<void>((resolve, reject) => {
        if (thread.pending.size === 0) thread.worker.ref();
        thread.pending.set(id, { resolve, reject });
        const job: WriteJob = { id, final: path.resolve(final), temp, body };
        thread.worker.postMessage(job);
      });
    },
    async close() {
      closed = true;
      // Writes in flight finish (they are fsyncs the caller waits for); then the threads go.
      const running = threads.filter((t): t is Thread => t !== undefined);
      await Promise.all(
        running.map(
          (t) =>
            new Promise<void>((resolve) => {
              if (t.pending.size === 0) return resolve();
              const check = () => {
                if (t.pending.size === 0) {
                  t.worker.off('message', check);
                  resolve();
                }
              };
              t.worker.on('message', check);
              t.worker.on('exit', () => resolve());
            }),
        ),
      );
      await Promise.all(running.map((t) => t.worker.terminate()));
    },
  };
}
