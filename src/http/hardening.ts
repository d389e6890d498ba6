import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import helmet from 'helmet';

/** Security headers for API responses: JSON and audio only, never framed, never sniffed. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}

export interface LimitOptions {
  windowMs?: number;
  limit?: number;
  /** where the counts live: the vault passes its PostgreSQL (shared by the fleet); default, this process's memory */
  store?: Store;
}

const tooMany =
  (message: string): RequestHandler =>
  (_req, res) => {
    res.status(429).json({ error: { code: 'rate_limited', message } });
  };

/**
 * Slows token guessing, per client address. The auth middleware runs it only
 * for a request whose token failed, so valid traffic is never counted — not
 * even while in flight: a fleet of phones behind one address is not throttled
 * by its own load. Over the limit, a failed attempt gets 429 instead of 401.
 */
export function authFailureLimit(options: LimitOptions = {}): RequestHandler {
  return rateLimit({
    ...(options.store ? { store: options.store } : {}),
    windowMs: options.windowMs ?? 15 * 60_000,
    limit: options.limit ?? 100,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: tooMany('too many failed authentications from this address; retry later'),
  });
}

/** Bounds admin writes (principal creation and revocation) per client address. */
export function adminLimit(options: LimitOptions = {}): RequestHandler {
  return rateLimit({
    ...(options.store ? { store: options.store } : {}),
    windowMs: options.windowMs ?? 60_000,
    limit: options.limit ?? 120,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: tooMany('too many admin requests from this address; retry later'),
  });
}
