import { Router } from 'express';
import { fromBase64Url } from '../crypto/sodium.js';
import type { DomainDeps } from '../domain/deps.js';
import { recordConsent, registerOrder } from '../domain/orders.js';
import { listOrderRecordings, startRecording } from '../domain/recordings.js';
import { badRequest } from '../errors.js';
import { requireRole } from './auth.js';
import { IDEMPOTENCY_KEY, idempotencyKeyOf } from './idempotency-key.js';
import { consentBody, createOrderBody, orderParams, startRecordingBody } from './schemas.js';
import { jsonBody, params } from './validate.js';

export function ordersRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.post('/v1/orders', async (req, res) => {
    const actor = requireRole(req, 'platform');
    res.status(201).json(await registerOrder(deps, actor, jsonBody(req, createOrderBody)));
  });

  router.post('/v1/orders/:orderId/consents', async (req, res) => {
    const actor = requireRole(req, 'platform', 'beautician');
    const { orderId } = params(req, orderParams);
    res.status(201).json(await recordConsent(deps, actor, orderId, jsonBody(req, consentBody)));
  });

  router.post('/v1/orders/:orderId/recordings', async (req, res) => {
    const actor = requireRole(req, 'beautician');
    const { orderId } = params(req, orderParams);
    const idempotencyKey = idempotencyKeyOf(req.get(IDEMPOTENCY_KEY));
    const body = jsonBody(req, startRecordingBody);
    const sealedContentKey = fromBase64Url(body.sealedContentKey);
    if (!sealedContentKey) throw badRequest('sealedContentKey', 'sealedContentKey must be base64url');
    const started = await startRecording(deps, actor, orderId, {
      sealedContentKey,
      mimeType: body.mimeType,
      idempotencyKey,
    });
    // 200 for an earlier start answered again (the phone lost the first answer), 201 for a new recording.
    res
      .status(started.replayed ? 200 : 201)
      .json({ recordingId: started.recordingId, maxChunkBytes: started.maxChunkBytes });
  });

  router.get('/v1/orders/:orderId/recordings', async (req, res) => {
    // A beautician only for its own orders (checked in the domain), to find a recording to resume.
    const actor = requireRole(req, 'dispute_staff', 'department_head', 'security_head', 'auditor', 'beautician');
    const { orderId } = params(req, orderParams);
    res.json(await listOrderRecordings(deps, actor, orderId));
  });

  return router;
}
