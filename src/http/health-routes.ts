import { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { openApiDocument } from './openapi.js';

export function healthRoutes(deps: Pick<DomainDeps, 'db' | 'blobs' | 'epochKeys' | 'metrics'>): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const check = async (ping: () => Promise<void>) =>
      ping().then(
        () => 'ok' as const,
        () => 'unavailable' as const,
      );
    const [database, storage, epochKeys] = await Promise.all([
      check(() => deps.db.ping()),
      check(() => deps.blobs.ping()),
      // Without its epoch keys the vault can neither register orders nor play recordings.
      check(() => deps.epochKeys.store.ping()),
    ]);
    const ready = database === 'ok' && storage === 'ok' && epochKeys === 'ok';
    if (!ready) res.set('Retry-After', '5');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'unavailable', checks: { database, storage, epochKeys } });
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
