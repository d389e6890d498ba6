import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { DomainDeps } from './domain/deps.js';
import { VaultError } from './errors.js';
import { accessRequestsRoutes } from './http/access-requests-routes.js';
import { auditRoutes, publicAuditRoutes } from './http/audit-routes.js';
import { authenticated } from './http/auth.js';
import { consoleRoutes } from './http/console-routes.js';
import { errorHandler } from './http/errors.js';
import { adminLimit, authFailureLimit, securityHeaders } from './http/hardening.js';
import { healthRoutes } from './http/health-routes.js';
import { holdsRoutes } from './http/holds-routes.js';
import { meRoutes } from './http/me-routes.js';
import { requestLogging, requestMetrics } from './http/observability.js';
import { ordersRoutes } from './http/orders-routes.js';
import { principalsRoutes } from './http/principals-routes.js';
import { chunkUploadRoutes, recordingsRoutes } from './http/recordings-routes.js';
import { webhooksRoutes } from './http/webhooks-routes.js';
import { PostgresRateLimitStore } from './store/db/rate-limits.js';

export interface AppDeps extends DomainDeps {
  logger: Logger;
}

/** Builds the Express app from its dependencies: no globals, no singletons. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Rate limits count per client address; behind a load balancer that address comes from X-Forwarded-For.
  app.set('trust proxy', deps.config.trustProxyHops);

  app.use(requestLogging(deps.logger));
  app.use(requestMetrics(deps.metrics));
  app.use(securityHeaders());
  app.use(healthRoutes(deps));
  app.use(consoleRoutes());
  app.use(publicAuditRoutes(deps));

  // Counted in PostgreSQL, so that every server on the database enforces one limit per client.
  app.use('/v1/principals', adminLimit({ store: new PostgresRateLimitStore(deps.db, 'admin') }));
  const onAuthFailure = authFailureLimit({ store: new PostgresRateLimitStore(deps.db, 'auth') });
  // Authenticates on its own, in the query that reads the upload's recording (the ingest hot path).
  app.use(chunkUploadRoutes(deps, onAuthFailure));
  app.use('/v1', authenticated(deps, onAuthFailure));
  app.use('/v1', express.json({ limit: '16kb', type: 'application/json', strict: true }));
  app.use(principalsRoutes(deps));
  app.use(meRoutes(deps));
  app.use(webhooksRoutes(deps));
  app.use(ordersRoutes(deps));
  app.use(recordingsRoutes(deps));
  app.use(accessRequestsRoutes(deps));
  app.use(holdsRoutes(deps));
  app.use(auditRoutes(deps));

  // Under /v1 a path no route serves is a refusal like any other, so it reaches the error handler and the
  // audit log (SPEC step 9); elsewhere (a browser's /favicon.ico) it is only a 404.
  app.use((req, res, next) => {
    const message = `no route for ${req.method} ${req.path.slice(0, 200)}`;
    if (req.path.startsWith('/v1/')) return next(new VaultError('not_found', 'not_found', message));
    res.status(404).json({ error: { code: 'not_found', message } });
  });
  app.use(errorHandler(deps));
  return app;
}
