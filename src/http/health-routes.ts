import { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { checkReadiness, isReady } from '../readiness.js';
import { openApiDocument } from './openapi.js';

export function healthRoutes(deps: Pick<DomainDeps, 'db' | 'blobs' | 'epochKeys' | 'metrics'>): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const checks = await checkReadiness(deps);
    const ready = isReady(checks);
    if (!ready) res.set('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
