import { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { createPrincipal, revokePrincipal } from '../domain/principals.js';
import { clearSigningKey } from '../domain/signing-keys.js';
import { requireRole } from './auth.js';
import { createPrincipalBody, principalParams } from './schemas.js';
import { jsonBody, params } from './validate.js';

export function principalsRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.post('/v1/principals', async (req, res) => {
    const actor = requireRole(req, 'admin');
    const body = jsonBody(req, createPrincipalBody);
    const { token } = await createPrincipal(deps, actor, body);
    res.status(201).json({ ...body, token });
  });

  router.delete('/v1/principals/:id', async (req, res) => {
    const actor = requireRole(req, 'admin');
    const { id } = params(req, principalParams);
    await revokePrincipal(deps, actor, id);
    res.status(200).json({ id, revoked: true });
  });

  router.delete('/v1/principals/:id/signing-key', async (req, res) => {
    const actor = requireRole(req, 'admin');
    const { id } = params(req, principalParams);
    res.status(200).json(await clearSigningKey(deps, actor, id));
  });

  return router;
}
