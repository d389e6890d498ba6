import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { appendAudit } from '../audit/audit-log.js';
import { getSodium } from '../crypto/sodium.js';
import { unwrapWebhookSecret, wrapWebhookSecret } from '../crypto/webhook-secret.js';
import { addMs } from '../durations.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import * as repo from '../store/db/webhooks.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';
import { checkWebhookUrl, publicOnlyLookup, WebhookAddressError } from './webhook-address.js';

/**
 * @module
 * Notifications (SPEC "Notifications"), per the Standard Webhooks spec: the
 * `standardwebhooks` package signs (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, HMAC-SHA256 with a `whsec_` secret). An event is
 * written as one delivery row per subscribed endpoint in the transaction of
 * the action it reports (an outbox), and a worker on every server delivers it
 * at least once: claimed with FOR UPDATE SKIP LOCKED under a lease, retried
 * with exponential backoff until it is answered 2xx or its give-up time
 * passes, every attempt recorded. Payloads carry ids, times, roles, purpose
 * and status, never audio, keys, tokens or a request's free-text reason.
 */
export const WEBHOOK_EVENTS = [
  'access_request.filed',
  'access_request.expiring',
  'access_request.decided',
  'grant.ended',
  'recording.unsealed',
  'recording.expired',
  'hold.placed',
  'hold.lifted',
  'principal.role_granted',
  'principal.signing_key_set',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const GIVE_UP_AFTER_MS = 24 * 3_600_000;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 3_600_000;
const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;
const BATCH = 20;

/** Writes the event to the outbox in the caller's transaction: it is sent only if the action commits. */
export async function emitEvent(
  tx: Queryable,
  deps: Pick<DomainDeps, 'ids'>,
  at: Date,
  type: WebhookEvent,
  data: { [key: string]: Json },
): Promise<void> {
  const eventId = deps.ids.newId('msg');
  await repo.enqueue(tx, {
    eventId,
    type,
    payload: { type, timestamp: at.toISOString(), data },
    at,
    giveUpAt: addMs(at, GIVE_UP_AFTER_MS),
  });
}

/**
 * Writes the event only the first time it is emitted for `subject` (a unique
 * row decides, so two servers or two concurrent actions send it once); returns
 * whether it was written.
 */
export async function emitEventOnce(
  tx: Queryable,
  deps: Pick<DomainDeps, 'ids'>,
  at: Date,
  type: WebhookEvent,
  subject: string,
  data: { [key: string]: Json },
): Promise<boolean> {
  if (!(await repo.claimOnce(tx, type, subject, at))) return false;
  await emitEvent(tx, deps, at, type, data);
  return true;
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  createdBy: string;
  createdAt: string;
}

const view = (e: repo.WebhookEndpointRecord): WebhookView => ({
  id: e.id,
  url: e.url,
  events: e.events,
  createdBy: e.createdBy,
  createdAt: e.createdAt.toISOString(),
});

export async function registerWebhook(
  deps: DomainDeps,
  actor: Principal,
  input: { url: string; events: WebhookEvent[]; secret?: string },
): Promise<WebhookView & { secret: string }> {
  let url: URL;
  try {
    url = await checkWebhookUrl(input.url, deps.config.webhookAllowPrivate);
  } catch (err) {
    if (err instanceof WebhookAddressError) throw badRequest('url', `webhook URL refused: ${err.message}`);
    throw err;
  }
  const secret = input.secret ?? `whsec_${Buffer.from((await getSodium()).randombytes_buf(32)).toString('base64')}`;
  const id = deps.ids.newId('wh');
  const at = deps.clock.now();
  const { wrapped, kekVersion } = await wrapWebhookSecret(deps.keyring, id, secret);
  const record = {
    id,
    url: url.toString(),
    events: [...new Set(input.events)],
    secretWrapped: wrapped,
    kekVersion,
    createdBy: actor.id,
    createdAt: at,
  };
  await deps.db.transaction(async (tx) => {
    await repo.insertEndpoint(tx, record);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'webhook.registered',
      outcome: 'ok',
      details: { webhookId: id, url: record.url, events: record.events },
    });
  });
  return { ...view({ ...record, deletedAt: null }), secret };
}

export async function listWebhooks(deps: DomainDeps): Promise<{ webhooks: WebhookView[] }> {
  return { webhooks: (await repo.listEndpoints(deps.db)).map(view) };
}

export async function deleteWebhook(deps: DomainDeps, actor: Principal, id: string): Promise<WebhookView> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const found = await repo.findEndpoint(tx, id);
    if (!found) throw notFound('webhook');
    if (!(await repo.deleteEndpoint(tx, id, at))) throw conflict('webhook_deleted', 'this webhook is already deleted');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'webhook.deleted',
      outcome: 'ok',
      details: { webhookId: id, url: found.url },
    });
    return view(found);
  });
}

export async function listWebhookDeliveries(deps: DomainDeps, id: string) {
  if (!(await repo.findEndpoint(deps.db, id))) throw notFound('webhook');
  const deliveries = await repo.listDeliveries(deps.db, id, 200);
  return {
    webhookId: id,
    deliveries: deliveries.map((d) => ({
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      status: d.status,
      createdAt: d.createdAt.toISOString(),
      nextAttemptAt: d.nextAttemptAt.toISOString(),
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      attempts: d.attempts.map((a) => ({
        at: a.at.toISOString(),
        statusCode: a.statusCode,
        error: a.error,
        durationMs: a.durationMs,
      })),
    })),
  };
}

/** The wait before attempt n+1 after n failed ones: 5 s, 10 s, 20 s, ... at most an hour. */
export const retryDelayMs = (failedAttempts: number): number =>
  Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failedAttempts - 1), MAX_RETRY_MS);

/** One pass of the delivery worker: claims what is due and sends it. Returns how many were attempted. */
export async function deliverDue(deps: DomainDeps): Promise<number> {
  const now = deps.clock.now();
  const claimed = await deps.db.transaction((tx) => repo.claimDue(tx, now, addMs(now, LEASE_MS), BATCH));
  await Promise.all(claimed.map((d) => deliverOne(deps, d)));
  return claimed.length;
}

async function deliverOne(deps: DomainDeps, d: repo.ClaimedDelivery): Promise<void> {
  const endpoint = await repo.findEndpoint(deps.db, d.endpointId);
  const started = Date.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  if (!endpoint || endpoint.deletedAt) {
    error = 'endpoint deleted';
  } else {
    try {
      const secret = await unwrapWebhookSecret(deps.keyring, endpoint.id, endpoint.secretWrapped, endpoint.kekVersion);
      // Wall-clock time: receivers check webhook-timestamp against their own clocks (replay window).
      const sentAt = new Date();
      const headers = {
        'webhook-id': d.eventId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(d.eventId, sentAt, d.payload),
      };
      statusCode = await post(endpoint.url, d.payload, headers, deps.config.webhookAllowPrivate);
    } catch (err) {
      error = err instanceof Error ? err.message.slice(0, 300) : 'delivery failed';
    }
  }
  const at = deps.clock.now();
  const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
  const next = addMs(at, retryDelayMs(d.attempts));
  await deps.db.transaction(async (tx) => {
    await repo.recordAttempt(tx, { deliveryId: d.id, at, statusCode, error, durationMs: Date.now() - started });
    if (ok) await repo.settleDelivery(tx, d.id, { status: 'delivered', at });
    else if (!endpoint || endpoint.deletedAt || next.getTime() > d.giveUpAt.getTime())
      await repo.settleDelivery(tx, d.id, { status: 'failed', at });
    else await repo.settleDelivery(tx, d.id, { status: 'pending', at, nextAttemptAt: next });
  });
}

/** POSTs the signed body; the connection's own lookup refuses non-public addresses (DNS rebinding). */
function post(url: string, body: string, signed: Record<string, string>, allowPrivate: boolean): Promise<number> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'visit-vault-webhooks', ...signed },
        lookup: publicOnlyLookup(allowPrivate),
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The delivery worker each server runs (src/workers.ts). */
export function startWebhookWorker(deps: DomainDeps, logger: Logger, intervalMs = 1000): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = deliverDue(deps)
      .then(() => {
        deps.metrics.workerLastSuccess.setToCurrentTime({ worker: 'webhooks' });
      })
      .catch((err: unknown) => logger.error({ err }, 'webhook delivery pass failed; retrying at the next interval'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
