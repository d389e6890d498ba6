import { appendAudit } from '../audit/audit-log.js';
import { newOrderKeyPair } from '../crypto/order-keys.js';
import { sodiumReady, toBase64Url } from '../crypto/sodium.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { Queryable } from '../store/db/database.js';
import type { ConsentRecord, OrderRecord } from '../store/db/orders.js';
import * as orders from '../store/db/orders.js';
import { findPrincipal } from '../store/db/principals.js';
import { stopRecordingsOnObjection } from './consent-withdrawal.js';
import type { DomainDeps } from './deps.js';
import { storeNewOrderKey } from './order-key-epochs.js';
import { hasRole, type Principal } from './principal.js';

export interface RegisterOrderInput {
  orderId: string;
  beauticianId: string;
  customerId: string;
  scheduledAt: string;
}

export async function registerOrder(
  deps: DomainDeps,
  actor: Principal,
  input: RegisterOrderInput,
): Promise<{ orderId: string; publicKey: string }> {
  const keys = newOrderKeyPair();
  const at = deps.clock.now();
  try {
    await deps.db.transaction(async (tx) => {
      const beautician = await findPrincipal(tx, input.beauticianId);
      if (!beautician || beautician.revoked || !hasRole(beautician, 'beautician')) {
        throw badRequest('beauticianId', 'beauticianId must name an active principal with the beautician role');
      }
      const inserted = await orders.insertOrder(tx, {
        orderId: input.orderId,
        beauticianId: input.beauticianId,
        customerId: input.customerId,
        scheduledAt: new Date(input.scheduledAt),
        publicKey: keys.publicKey,
        createdAt: at,
      });
      if (!inserted) throw conflict('order_exists', `order ${input.orderId} is already registered`);
      const epoch = await storeNewOrderKey(deps, tx, input.orderId, keys.secretKey);
      await appendAudit(tx, at, {
        actorId: actor.id,
        action: 'order.registered',
        outcome: 'ok',
        orderId: input.orderId,
        details: { beauticianId: input.beauticianId, customerId: input.customerId, epoch },
      });
    });
  } finally {
    sodiumReady().memzero(keys.secretKey);
  }
  return { orderId: input.orderId, publicKey: toBase64Url(keys.publicKey) };
}

/** The order, checked to exist and, for a beautician, to be theirs. */
export async function orderFor(q: Queryable, actor: Principal, orderId: string): Promise<OrderRecord> {
  const order = await orders.findOrder(q, orderId);
  if (!order) throw notFound('order');
  assertOwnIfBeautician(actor, order);
  return order;
}

/**
 * A beautician acts only on orders assigned to them; other roles pass through
 * to their own checks. No other role lifts this: a principal that also holds
 * `platform` (refused since separation of duties, but possible in old rows) is
 * still held to its own orders.
 */
export function assertOwnIfBeautician(actor: Principal, order: Pick<OrderRecord, 'beauticianId'>): void {
  if (hasRole(actor, 'beautician') && order.beauticianId !== actor.id) {
    throw forbidden('this order is not assigned to you', 'not_your_order');
  }
}

export interface ConsentInput {
  party: ConsentRecord['party'];
  decision: ConsentRecord['decision'];
  mode: ConsentRecord['mode'];
  appVersion: string;
}

export type ConsentView = Omit<ConsentRecord, 'recordedAt'> & { recordedAt: string };

export async function recordConsent(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
  input: ConsentInput,
): Promise<ConsentView> {
  if (input.mode === 'notified_no_objection' && (input.party !== 'customer' || input.decision !== 'consent')) {
    throw badRequest('mode', 'notified_no_objection applies only to a customer who did not object');
  }
  // SPEC step 2: only the platform records the customer's consent; a beautician records only its own.
  if (!hasRole(actor, 'platform') && input.party !== 'beautician')
    throw forbidden("only the platform records the customer's consent; a beautician records its own", 'not_your_party');
  const at = deps.clock.now();
  const consent: ConsentRecord = { id: deps.ids.newId('con'), orderId, ...input, recordedBy: actor.id, recordedAt: at };
  await deps.db.transaction(async (tx) => {
    const order = await orders.lockOrder(tx, orderId);
    if (!order) throw notFound('order');
    assertOwnIfBeautician(actor, order);
    await orders.insertConsent(tx, consent);
    if (input.decision === 'object')
      await stopRecordingsOnObjection(deps, tx, at, {
        orderId,
        consentId: consent.id,
        party: input.party,
        actorId: actor.id,
      });
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'consent.recorded',
      outcome: 'ok',
      orderId,
      details: {
        consentId: consent.id,
        party: input.party,
        decision: input.decision,
        mode: input.mode,
        appVersion: input.appVersion,
      },
    });
  });
  return { ...consent, recordedAt: at.toISOString() };
}
