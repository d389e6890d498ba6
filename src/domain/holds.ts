import { appendAudit } from '../audit/audit-log.js';
import { addMs } from '../durations.js';
import { badRequest, conflict, forbidden, gone, notFound } from '../errors.js';
import type { HoldRecord } from '../store/db/holds.js';
import * as holds from '../store/db/holds.js';
import { findOrder } from '../store/db/orders.js';
import { claimExpirable, orderRetention } from '../store/db/retention.js';
import type { DomainDeps } from './deps.js';
import { followRetention } from './order-key-epochs.js';
import { hasRole, type Principal } from './principal.js';
import { expireClaimed } from './sweeper.js';
import type { HoldReason } from './vocabulary.js';
import { emitEvent } from './webhooks.js';

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

/**
 * When a hold ends (SPEC step 8): by default, and at most, VAULT_MAX_HOLD
 * after it is placed (a longer need places a new hold); a `legal` hold may be
 * open-ended (no `until`) or end whenever it names. A too-long `until` is
 * refused (400 naming `until`), never silently shortened: the platform must
 * know the day its hold really ends.
 */
export function holdEnd(reason: HoldReason, until: string | undefined, at: Date, maxHoldMs: number): Date | null {
  const latest = addMs(at, maxHoldMs);
  if (until === undefined) return reason === 'legal' ? null : latest;
  const end = new Date(until);
  if (end.getTime() <= at.getTime()) throw badRequest('until', 'until must be in the future');
  if (reason !== 'legal' && end.getTime() > latest.getTime())
    throw badRequest(
      'until',
      `until may be at most VAULT_MAX_HOLD after now (${latest.toISOString()}); place a new hold for a longer need`,
    );
  return end;
}

export async function placeHold(
  deps: DomainDeps,
  actor: Principal,
  orderId: string,
  input: { reason: HoldReason; until?: string; note?: string },
): Promise<HoldView> {
  const at = deps.clock.now();
  const until = holdEnd(input.reason, input.until, at, deps.config.maxHoldMs);
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
  // A hold keeps what is still kept at `at`; it never brings back a recording that expired by time before it.
  // Those are destroyed first, as the sweeper would, in a transaction of their own (the audit log's lock comes
  // last in every transaction, after the epoch rows the hold's own key move takes).
  await deps.db.transaction(async (tx) => {
    const due = await claimExpirable(tx, at, 10_000, orderId);
    if (due.length > 0) await expireClaimed(deps, tx, due, at);
  });
  await deps.db.transaction(async (tx) => {
    const order = await findOrder(tx, orderId);
    if (!order) throw notFound('order');
    const kept = await orderRetention(tx, orderId, at);
    if (order.shreddedAt || (kept.hasRecordings && !kept.hasLive))
      throw gone(
        'order_destroyed',
        "this order's recordings were destroyed at the end of their retention: nothing is left to hold",
      );
    await holds.insertHold(tx, hold);
    await followRetention(deps, tx, orderId, 'hold.placed');
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'hold.placed',
      outcome: 'ok',
      orderId,
      details: { holdId: hold.id, reason: hold.reason, until: until?.toISOString() ?? null },
    });
    await emitEvent(tx, deps, at, 'hold.placed', {
      holdId: hold.id,
      orderId,
      reason: hold.reason,
      until: until?.toISOString() ?? null,
      placedBy: actor.id,
      placedAt: at.toISOString(),
    });
  });
  return toHoldView(hold);
}

/** A `legal` hold is lifted only by a security head; the others by the platform or a security head. */
export function assertMayLift(actor: Principal, hold: Pick<HoldRecord, 'reason'>): void {
  if (hold.reason === 'legal' && !hasRole(actor, 'security_head'))
    throw forbidden('only a security_head lifts a legal hold', 'legal_hold');
}

export async function liftHold(deps: DomainDeps, actor: Principal, holdId: string): Promise<HoldView> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const hold = await holds.findHold(tx, holdId, { forUpdate: true });
    if (!hold) throw notFound('hold');
    assertMayLift(actor, hold);
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
    await emitEvent(tx, deps, at, 'hold.lifted', {
      holdId,
      orderId: hold.orderId,
      reason: hold.reason,
      liftedBy: actor.id,
      liftedAt: at.toISOString(),
    });
    return toHoldView({ ...hold, liftedBy: actor.id, liftedAt: at });
  });
}
