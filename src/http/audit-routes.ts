import { Router } from 'express';
import { listAudit } from '../audit/audit-log.js';
import { proveConsistency, proveInclusion } from '../audit/proofs.js';
import { newestCheckpoint } from '../audit/sequencer.js';
import { verifyAndRecord } from '../audit/verify.js';
import { verifierKey } from '../crypto/log-key.js';
import { toBase64Url } from '../crypto/sodium.js';
import type { DomainDeps } from '../domain/deps.js';
import { actorNames } from '../domain/display-names.js';
import { exportEvidence } from '../domain/evidence.js';
import { unavailable } from '../errors.js';
import { auditVerifyQuery, consistencyQuery, inclusionParams, inclusionQuery } from './audit-schemas.js';
import { requireRole } from './auth.js';
import { auditQuery, orderParams } from './schemas.js';
import { params, query } from './validate.js';

/** What anyone may read without a token: the newest checkpoint and the key that signs it. */
export function publicAuditRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.get('/v1/audit/checkpoint', async (_req, res) => {
    const newest = await newestCheckpoint(deps.db);
    // Before the sequencer's first pass there is nothing signed yet: come back shortly.
    if (!newest) throw unavailable('the first checkpoint', undefined, 1);
    res.type('text/plain; charset=utf-8').send(newest.note);
  });

  router.get('/v1/audit/log-key', (_req, res) => {
    const { origin, publicKey, keyId } = deps.logKey;
    res.json({
      origin,
      publicKey: toBase64Url(publicKey),
      keyId: toBase64Url(keyId),
      verifierKey: verifierKey(origin, publicKey),
    });
  });

  return router;
}

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
    const { checkpoint } = query(req, auditVerifyQuery);
    res.json(await verifyAndRecord(deps, actor.id, { olderNote: checkpoint }));
  });

  router.get('/v1/audit/entries/:index/inclusion', async (req, res) => {
    requireRole(req, 'auditor', 'security_head');
    const { index } = params(req, inclusionParams);
    const { treeSize } = query(req, inclusionQuery);
    res.json(await proveInclusion(deps.db, index, treeSize));
  });

  router.get('/v1/orders/:orderId/evidence', async (req, res) => {
    const actor = requireRole(req, 'auditor', 'security_head');
    const { orderId } = params(req, orderParams);
    res.json(await exportEvidence(deps, actor, orderId));
  });

  router.get('/v1/audit/consistency', async (req, res) => {
    requireRole(req, 'auditor', 'security_head');
    const { from, to } = query(req, consistencyQuery);
    res.json(await proveConsistency(deps.db, from, to));
  });

  return router;
}
