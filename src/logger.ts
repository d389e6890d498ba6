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
  '*.body',
  'req.body',
  'res.body',
  // key material and config secrets, should any object carrying them reach a log call
  'keks',
  '*.keks',
  'contentKey',
  '*.contentKey',
  'secretKey',
  '*.secretKey',
  'wrappedSecretKey',
  '*.wrappedSecretKey',
  'plaintext',
  '*.plaintext',
  'bootstrapAdminToken',
  '*.bootstrapAdminToken',
  'secretAccessKey',
  '*.secretAccessKey',
  'databaseUrl',
  '*.databaseUrl',
  'logSigningKey',
  '*.logSigningKey',
  'secret',
  '*.secret',
  'signingKey',
  '*.signingKey',
  // the embedded PostgreSQL's password, should its address reach a log call
  'password',
  '*.password',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    { level: options.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'visit-vault' } },
    options.destination,
  );
}

export type { Logger };
