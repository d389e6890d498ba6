/**
 * Errors are values with a code. Domain and store code throw these; one HTTP
 * middleware (src/http/errors.ts) maps them to a status and the SPEC error body.
 * Messages must never contain a secret (token, key, plaintext).
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'too_large'
  | 'unsupported_media_type'
  | 'range_not_satisfiable'
  | 'unavailable'
  | 'integrity';

export interface ErrorDetails {
  /** the request field that is wrong, for bad input */
  field?: string;
  /** e.g. the missing chunk seqs for chunks_missing */
  missing?: number[];
  /** seconds, for unavailable */
  retryAfter?: number;
}

export class VaultError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VaultError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (field: string, message: string, code = 'invalid_input'): VaultError =>
  new VaultError('bad_request', code, message, { field });
export const unauthorized = (message = 'missing or invalid bearer token'): VaultError =>
  new VaultError('unauthorized', 'unauthorized', message);
export const forbidden = (message: string, code = 'forbidden'): VaultError =>
  new VaultError('forbidden', code, message);
export const notFound = (what: string): VaultError => new VaultError('not_found', 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details: ErrorDetails = {}): VaultError =>
  new VaultError('conflict', code, message, details);
export const gone = (code: string, message: string): VaultError => new VaultError('gone', code, message);
export const tooLarge = (message: string): VaultError => new VaultError('too_large', 'too_large', message);
export const unavailable = (what: string, cause?: unknown, retryAfter = 5): VaultError =>
  new VaultError('unavailable', 'unavailable', `${what} is unavailable, retry later`, { retryAfter }, { cause });

export const isVaultError = (e: unknown): e is VaultError => e instanceof VaultError;
