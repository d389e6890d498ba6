/**
 * @module The filesystem store's durable write, run whole on a worker thread:
 * mkdir, open a temp file, write, fsync, close, rename over the final name,
 * fsync the directory (and the parents of any directory it had to create).
 * Done with synchronous calls here, one message each way instead of the nine
 * thread-pool hops the same steps cost through fs/promises on the main thread.
 * Loaded by Node as it is (type stripping), so: node: imports and erasable
 * TypeScript only.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export interface WriteJob {
  id: number;
  /** absolute path of the object */
  final: string;
  /** absolute path of the temp file to write first, beside it */
  temp: string;
  body: Uint8Array;
}

export interface WriteFailure {
  message: string;
  code?: string;
  syscall?: string;
  /** the temp file of the failed write could not be removed either */
  cleanup?: string;
}

export type WriteReply = { id: number; ok: true } | { id: number; ok: false; error: WriteFailure };

function fsyncPath(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

class TempCleanupError extends Error {
  readonly original: unknown;
  readonly cleanupError: unknown;
  constructor(original: unknown, cleanupError: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.original = original;
    this.cleanupError = cleanupError;
  }
}

function discard(temp: string, cause: unknown): never {
  try {
    unlinkSync(temp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TempCleanupError(cause, err);
  }
  throw cause;
}

function durableWrite(final: string, temp: string, body: Uint8Array): void {
  const dir = path.dirname(final);
  const created = mkdirSync(dir, { recursive: true });
  const fd = openSync(temp, 'wx', 0o600);
  try {
    let written = 0;
    while (written < body.length) written += writeSync(fd, body, written, body.length - written);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    discard(temp, err);
  }
  closeSync(fd);
  try {
    renameSync(temp, final);
  } catch (err) {
    discard(temp, err);
  }
  fsyncPath(dir);
  // A directory made just now exists durably only once its parent is synced too.
  if (created !== undefined) {
    const top = path.dirname(created);
    for (let d = dir; d !== top && d !== path.dirname(d); d = path.dirname(d)) fsyncPath(path.dirname(d));
  }
}

function failure(err: unknown): WriteFailure {
  const base = err instanceof TempCleanupError ? err.original : err;
  const e = base as NodeJS.ErrnoException;
  return {
    message: e instanceof Error ? e.message : String(base),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(err instanceof TempCleanupError ? { cleanup: String(err.cleanupError) } : {}),
  };
}

// Listens only on a thread the pool started for it (durable-writes.ts passes this workerData), never when imported.
if (workerData === 'visit-vault/durable-write') {
  parentPort?.on('message', (job: WriteJob) => {
    let reply: WriteReply;
    try {
      durableWrite(job.final, job.temp, job.body);
      reply = { id: job.id, ok: true };
    } catch (err) {
      reply = { id: job.id, ok: false, error: failure(err) };
    }
    parentPort?.postMessage(reply);
  });
}
