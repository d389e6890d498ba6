import { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { describeMe, registerSigningKey } from '../domain/signing-keys.js';
import { principalOf, requireRole } from './auth.js';
import { signingKeyBody } from './schemas.js';
import { jsonBody } from './validate.js';

/** `/v1/me`: who this token is, and the head's own signing key (SPEC "Signed sign-offs"). */
export function meRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.get('/v1/me', async (req, res) => {
    res.json(await describeMe(deps, principalOf(req)));
  });

  router.put('/v1/me/signing-key', async (req, res) => {
    const actor = requireRole(req, 'department_head', 'security_head');
    const { publicKey } = jsonBody(req, signingKeyBody);
    const { created, key } = await registerSigningKey(deps, actor, publicKey);
    res.status(created ? 201 : 200).json(key);
  });

  return router;
}
