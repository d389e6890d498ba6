import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { appendAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { type ErrorKind, isVaultError, VaultError } from '../errors.js';
import type { Database } from '../store/db/database.js';
import { orderIdOf, type Subject } from '../store/db/subjects.js';
import { escapeText } from '../text.js';
import { id as idSchema } from './schemas.js';

/** The one place where errors become HTTP statuses and the SPEC error body. */
const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  unavailable: 503,
  integrity: 502,
};

// SPEC step 9: every refusal is recorded, bad input included. Not refusals: a store that is down, a chunk that fails to authenticate (audited where it is found).
const AUDITED_REFUSALS = new Set<ErrorKind>([
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'gone',
  'too_large',
  'unsupported_media_type',
  'range_not_satisfiable',
]);

interface BodyParserError {
  type?: string;
  status: number;
}
/** body-parser's errors are http-errors: a 4xx `status`, `expose: true`, usually a `type` (not for a broken gzip stream). */
const isBodyParserError = (e: unknown): e is BodyParserError =>
  typeof e === 'object' &&
  e !== null &&
  'status' in e &&
  typeof e.status === 'number' &&
  'expose' in e &&
  e.expose === true;

/** Errors thrown by express.json()/express.raw() before our code runs. */
function fromBodyParser(e: BodyParserError): VaultError {
  switch (e.type) {
    case 'entity.parse.failed':
      return new VaultError('bad_request', 'malformed_json', 'the body is not valid JSON', { field: 'body' });
    case 'entity.too.large':
      return new VaultError('too_large', 'too_large', 'the body is larger than this route accepts', { field: 'body' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new VaultError('unsupported_media_type', 'unsupported_media_type', 'unsupported body encoding', {
        field: 'content-encoding',
      });
    default:
      return new VaultError('bad_request', 'bad_body', 'the body could not be read', { field: 'body' });
  }
}

/** The router could not percent-decode a path parameter (e.g. `%E0%A4%A`): it throws a URIError marked 400. */
const isUndecodablePath = (e: unknown): boolean =>
  e instanceof URIError && 'status' in e && (e as URIError & { status: unknown }).status === 400;

export function toVaultError(err: unknown): VaultError | null {
  if (isVaultError(err)) return err;
  if (isUndecodablePath(err))
    return new VaultError('bad_request', 'malformed_path', 'the path holds a malformed %-escape', { field: 'path' });
  if (isBodyParserError(err) && err.status >= 400 && err.status < 500) return fromBodyParser(err);
  return null;
}

/**
 * Which order, recording, request or hold a refused path named. Read from the
 * path itself: by the time an error reaches this handler Express has already
 * restored req.params to the app level.
 */
export function subjectOfPath(path: string): Subject {
  const segs = path.split('/').map((seg) => {
    try {
      return decodeURIComponent(seg);
    } catch {
      return '';
    }
  });
  const [, version, resource, id, sub, subId] = segs;
  // Only a well-formed id is looked up; anything else (NUL, broken escapes) stays in the escaped path alone.
  const ok = (v: string | undefined) => (v !== undefined && idSchema.safeParse(v).success ? v : undefined);
  if (version !== 'v1') return {};
  switch (resource) {
    case 'orders':
      return { orderId: ok(id) };
    case 'recordings':
      return { recordingId: ok(id) };
    case 'access-requests':
      return { requestId: ok(id), recordingId: sub === 'recordings' ? ok(subId) : undefined };
    case 'holds':
      return { holdId: ok(id) };
    default:
      return {};
  }
}

export function errorHandler(deps: { db: Database; clock: Clock; logger: Logger }): ErrorRequestHandler {
  return async (err: unknown, req, res, _next) => {
    const known = toVaultError(err);
    // req.log (pino-http) carries the request id, so an error line can be matched to its access line.
    const log = req.log ?? deps.logger;
    if (!known) log.error({ err, method: req.method, path: req.path }, 'unhandled error');
    else if (known.kind === 'unavailable')
      log.warn({ err: known.cause ?? known, path: req.path }, 'backing store unavailable');
    if (!known) {
      if (res.headersSent) res.destroy();
      else res.status(500).json({ error: { code: 'internal', message: 'the vault could not complete this request' } });
      return;
    }
    const e = known;
    const status = STATUS[e.kind];

    if (AUDITED_REFUSALS.has(e.kind)) {
      try {
        // The order the refused request was about, from whichever id its path named.
        const subject = subjectOfPath(req.path);
        await deps.db.transaction(async (tx) => {
          const orderId = await orderIdOf(tx, subject);
          await appendAudit(tx, deps.clock.now(), {
            actorId: req.principal?.id ?? null,
            action: 'request.refused',
            outcome: 'refused',
            orderId,
            recordingId: subject.recordingId ?? null,
            // The path as sent, escaped: a refused path may hold anything a client can put in a URL.
            details: {
              method: escapeText(req.method, 16),
              path: escapeText(req.path),
              status,
              code: e.code,
              ...(e.details.field ? { field: escapeText(e.details.field, 100) } : {}),
            },
          });
        });
      } catch (auditErr) {
        log.error({ err: auditErr }, 'could not audit a refusal');
      }
    }

    if (res.headersSent) {
      // A stream already started: the only honest signal left is to cut it.
      res.destroy();
      return;
    }
    if (e.details.retryAfter !== undefined) res.set('Retry-After', String(e.details.retryAfter));
    const { retryAfter: _r, ...extra } = e.details;
    res.status(status).json({ error: { code: e.code, message: e.message, ...extra } });
  };
}
