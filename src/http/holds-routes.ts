import { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { liftHold, placeHold } from '../domain/holds.js';
import { requireRole } from './auth.js';
import { holdParams, placeHoldBody } from './hold-schemas.js';
import { orderParams } from './schemas.js';
import { jsonBody, params } from './validate.js';

export function holdsRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.post('/v1/orders/:orderId/holds', async (req, res) => {
    const actor = requireRole(req, 'platform', 'security_head');
    const { orderId } = params(req, orderParams);
    res.status(201).json(await placeHold(deps, actor, orderId, jsonBody(req, placeHoldBody)));
  });

  router.delete('/v1/holds/:holdId', async (req, res) => {
    const actor = requireRole(req, 'platform', 'security_head');
    const { holdId } = params(req, holdParams);
    res.json(await liftHold(deps, actor, holdId));
  });

  return router;
}
