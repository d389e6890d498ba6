import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Clock } from '../clock.js';
import { hasRole, type Principal, type Role } from '../domain/principal.js';
import { authenticate } from '../domain/principals.js';
import { forbidden, unauthorized } from '../errors.js';
import type { Database } from '../store/db/database.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticated`; absent on public routes. */
    principal?: Principal;
  }
}

// RFC 9110 §11.1: the scheme is case-insensitive ("bearer", "BEARER"); one or more spaces before the token.
const BEARER = /^bearer +([A-Za-z0-9_-]{16,256}) *$/i;

/**
 * Resolves the bearer token to an active principal on every request: a revoked
 * token stops working at once. A failed attempt passes through `onFailure`
 * (the failed-authentication rate limit) before it is answered 401.
 */
export function authenticated(deps: { db: Database; clock: Clock }, onFailure?: RequestHandler): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    const principal = token ? await authenticate(deps, token) : null;
    if (!principal) return refuseAuthentication(req, res, next, onFailure);
    req.principal = principal;
    next();
  };
}

/** The request's bearer token when it has a well-formed one, else null. */
export function bearerToken(req: Request): string | null {
  return BEARER.exec(req.get('authorization') ?? '')?.[1] ?? null;
}

/** Answers 401, after the failed attempt has passed through `onFailure` (the failed-authentication rate limit). */
export function refuseAuthentication(
  req: Request,
  res: Response,
  next: NextFunction,
  onFailure?: RequestHandler,
): unknown {
  if (onFailure) return onFailure(req, res, () => next(unauthorized()));
  next(unauthorized());
}

/** The authenticated principal; only call behind `authenticated`. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

export function requireRole(req: Request, ...roles: Role[]): Principal {
  const p = principalOf(req);
  if (!hasRole(p, ...roles)) throw forbidden(`this needs one of the roles: ${roles.join(', ')}`, 'wrong_role');
  return p;
}
