import { Router } from 'express';
import { listAudit, verifyAndRecord } from '../audit/audit-log.js';
import type { DomainDeps } from '../domain/deps.js';
import { requireRole } from './auth.js';
import { auditQuery, auditVerifyQuery } from './schemas.js';
import { query } from './validate.js';

export function auditRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.get('/v1/audit', async (req, res) => {
    requireRole(req, 'auditor', 'security_head');
    const q = query(req, auditQuery);
    res.json(await listAudit(deps.db, { orderId: q.orderId, afterId: q.after, limit: q.limit ?? 100 }));
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
