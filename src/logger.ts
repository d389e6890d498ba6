import pino, { type Logger } from 'pino';

/** Paths that may carry a secret: never logged, whatever logs them. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'key',
  '*.key',
  'kek',
  '*.kek',
  'sealedContentKey',
  '*.sealedContentKey',
  'body',
  'req.body',
  'res.body',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    { level: options.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'visit-vault' } },
    options.destination,
  );
}

export type { Logger };
