import { Router } from 'express';
import { z } from 'zod';
import type { DomainDeps } from '../domain/deps.js';
import {
  deleteWebhook,
  listWebhookDeliveries,
  listWebhooks,
  registerWebhook,
  WEBHOOK_EVENTS,
} from '../domain/webhooks.js';
import { requireRole } from './auth.js';
import { id } from './schemas.js';
import { jsonBody, params } from './validate.js';

export const webhookBody = z.strictObject({
  url: z.string().max(2000),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .refine((e) => new Set(e).size === e.length, 'events must not repeat'),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by at least 24 bytes, base64')
    .max(200)
    .optional(),
});
export const webhookParams = z.strictObject({ id });

/** Admin routes for notification endpoints (SPEC "Notifications"). */
export function webhooksRoutes(deps: DomainDeps): Router {
  const router = Router();
  router.post('/v1/webhooks', async (req, res) => {
    const actor = requireRole(req, 'admin');
    res.status(201).json(await registerWebhook(deps, actor, jsonBody(req, webhookBody)));
  });
  router.get('/v1/webhooks', async (req, res) => {
    requireRole(req, 'admin');
    res.json(await listWebhooks(deps));
  });
  router.delete('/v1/webhooks/:id', async (req, res) => {
    const actor = requireRole(req, 'admin');
    res.json(await deleteWebhook(deps, actor, params(req, webhookParams).id));
  });
  router.get('/v1/webhooks/:id/deliveries', async (req, res) => {
    requireRole(req, 'admin');
    res.json(await listWebhookDeliveries(deps, params(req, webhookParams).id));
  });
  return router;
}
