import { Router } from 'express';
import { listAudit, verifyAndRecord } from '../audit/audit-log.js';
import type { DomainDeps } from '../domain/deps.js';
import { actorNames } from '../domain/display-names.js';
import { requireRole } from './auth.js';
import { auditQuery, auditVerifyQuery } from './schemas.js';
import { query } from './validate.js';

export function auditRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.get('/v1/audit', async (req, res) => {
    requireRole(req, 'auditor', 'security_head');
    const q = query(req, auditQuery);
    const page = await listAudit(deps.db, { orderId: q.orderId, afterId: q.after, limit: q.limit ?? 100 });
    res.json({
      ...page,
      names: await actorNames(
        deps,
        page.entries.map((e) => e.actorId),
      ),
    });
  });

  router.get('/v1/audit/verify', async (req, res) => {
    const actor = requireRole(req, 'auditor', 'security_head');
    const { anchorId, anchorHash } = query(req, auditVerifyQuery);
    const result = await verifyAndRecord(
      deps.db,
      deps.clock.now(),
      actor.id,
      anchorId && anchorHash ? { id: anchorId, hash: anchorHash } : undefined,
    );
    res.json(result);
  });

  return router;
}
