import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../../../logger.js';

/**
 * @module PostgreSQL's own output (initdb's progress, the server's log) relayed
 * into the vault's pino log, one JSON entry per line, so the vault's stdout and
 * stderr carry nothing but JSON lines. The server runs with
 * `log_line_prefix='[%p] '` and English messages, so each line's severity is
 * readable; a line without one (a statement's second line) keeps the level of
 * the line before it.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';

const SEVERITY = /^\[(\d+)\] ([A-Z0-9]+):\s+(.*)$/;

const LEVELS: Record<string, Level> = {
  DEBUG1: 'debug',
  DEBUG2: 'debug',
  DEBUG3: 'debug',
  DEBUG4: 'debug',
  DEBUG5: 'debug',
  LOG: 'info',
  INFO: 'info',
  NOTICE: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  FATAL: 'error',
  PANIC: 'error',
};

const TAIL_LINES = 8;
const EXPECTED_AT_SHUTDOWN = 'terminating connection due to administrator command';

/**
 * Relays every line of the streams to the logger; `fallback` is the level of a
 * line that names none. Returns the last few lines, kept for an error message
 * when the process exits at start.
 */
export function relayOutput(
  logger: Logger,
  streams: (Readable | null)[],
  options: { source: 'postgres' | 'initdb'; fallback: Level },
): string[] {
  const tail: string[] = [];
  for (const stream of streams) {
    if (!stream) continue;
    let level = options.fallback;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      tail.push(line.trim());
      if (tail.length > TAIL_LINES) tail.shift();
      const parsed = SEVERITY.exec(line);
      if (parsed) {
        const [, pid, severity, message] = parsed;
        // DETAIL, HINT, CONTEXT, STATEMENT and the like belong to the line before: same level.
        level = LEVELS[severity ?? ''] ?? level;
        // Every session, the vault's own included, is told this at each fast shutdown: news, not an error.
        if (message === EXPECTED_AT_SHUTDOWN) level = 'info';
        logger[level]({ source: options.source, pgPid: Number(pid), severity }, message ?? '');
      } else {
        logger[level]({ source: options.source }, line.trim());
      }
    });
    // A stream error (the pipe torn down at exit) ends the relay; the process's exit is reported on its own.
    stream.on('error', (err) => logger.debug({ err, source: options.source }, 'PostgreSQL output stream closed'));
  }
  return tail;
}
