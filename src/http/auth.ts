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
  const refuse = (req: Request, res: Response, next: NextFunction) => {
    if (onFailure) return onFailure(req, res, () => next(unauthorized()));
    next(unauthorized());
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    const principal = match?.[1] ? await authenticate(deps, match[1]) : null;
    if (!principal) return refuse(req, res, next);
    req.principal = principal;
    next();
  };
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
