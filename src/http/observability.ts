import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Metrics } from '../metrics.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The route pattern a request matched (never raw ids, so metrics labels stay bounded). */
export function routeLabel(req: Request): string {
  const pattern: unknown = req.route?.path;
  return typeof pattern === 'string' ? pattern : 'unmatched';
}

/** A request's id: its `x-request-id` when well-formed, else a new one (a UUID: cheap, and only ever a trace id). */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const offered = req.headers['x-request-id'];
  const id =
    typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : `trace_${randomUUID().replaceAll('-', '')}`;
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * One JSON log line per request, with a request id taken from `x-request-id`
 * when it is well-formed (else generated) and echoed back. Only method, path,
 * status and timing are logged: never headers, query strings or bodies. With
 * logging off (level silent) only the id is kept: no per-request logging work.
 */
export function requestLogging(logger: Logger): RequestHandler {
  if (logger.level === 'silent') {
    return (req, res, next) => {
      req.id = requestId(req, res);
      next();
    };
  }
  return pinoHttp({
    logger,
    genReqId: requestId,
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Counts and times every answered request by method, matched route and status. */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const endTimer = metrics.httpRequestSeconds.startTimer();
    res.on('finish', () => {
      const labels = { method: req.method, route: routeLabel(req), status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      endTimer(labels);
    });
    next();
  };
}
