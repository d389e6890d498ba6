import { appendAudit } from '../audit/audit-log.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { HoldRecord } from '../store/db/holds.js';
import * as holds from '../store/db/holds.js';
import { findOrder } from '../store/db/orders.js';
import type { DomainDeps } from './deps.js';
import { followRetention } from './order-key-epochs.js';
import type { Principal } from './principal.js';
import type { HoldReason } from './vocabulary.js';

/**
 * Retention holds (SPEC step 8): a complaint, bad review, dispute or legal
 * matter keeps an order's recordings past retainUntil until the hold is lifted
 * or reaches its own `until`.
 */
export interface HoldView {
  id: string;
  orderId: string;
  reason: HoldReason;
  until: string | null;
  note: string | null;
  placedBy: string;
  placedAt: string;
  liftedBy?: string;
  liftedAt?: string;
}

export function toHoldView(h: HoldRecord): HoldView {
  return {
    id: h.id,
    orderId: h.orderId,
    reason: h.reason,
    until: h.until?.toISOString() ?? null,
    note: h.note,
    placedBy: h.placedBy,
    placedAt: h.placedAt.toISOString(),
    ...(h.liftedAt && h.liftedBy ? { liftedBy: h.liftedBy, liftedAt: h.liftedAt.toISOString() } : {}),
  };
}

export async function placeHold(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
  input: { reason: HoldReason; until?: string; note?: string },
): Promise<HoldView> {
  const at = deps.clock.now();
  const until = input.until ? new Date(input.until) : null;
  if (until && until.getTime() <= at.getTime()) throw badRequest('until', 'until must be in the future');
  const hold: HoldRecord = {
    id: deps.ids.newId('hold'),
    orderId,
    reason: input.reason,
    until,
    note: input.note ?? null,
    placedBy: actor.id,
    placedAt: at,
    liftedBy: null,
    liftedAt: null,
  };
  await deps.db.transaction(async (tx) => {
    if (!(await findOrder(tx, orderId))) throw notFound('order');
    await holds.insertHold(tx, hold);
    await followRetention(deps, tx, orderId, 'hold.placed');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'hold.placed',
      outcome: 'ok',
      orderId,
      details: { holdId: hold.id, reason: hold.reason, until: until?.toISOString() ?? null },
    });
  });
  return toHoldView(hold);
}

export async function liftHold(deps: DomainDeps, actor: Principal, holdId: string): Promise<HoldView> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const hold = await holds.findHold(tx, holdId, { forUpdate: true });
    if (!hold) throw notFound('hold');
    if (hold.liftedAt) throw conflict('hold_lifted', 'this hold was already lifted');
    await holds.markLifted(tx, holdId, actor.id, at);
    await followRetention(deps, tx, hold.orderId, 'hold.lifted');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'hold.lifted',
      outcome: 'ok',
      orderId: hold.orderId,
      details: { holdId },
    });
    return toHoldView({ ...hold, liftedBy: actor.id, liftedAt: at });
  });
}
