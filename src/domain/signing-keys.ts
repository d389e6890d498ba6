import { appendAudit } from '../audit/audit-log.js';
import { parseSigningPublicKey, signingKeyId } from '../crypto/decision-signature.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import * as repo from '../store/db/principals.js';
import type { DomainDeps } from './deps.js';
import { hasRole, type Principal } from './principal.js';
import { emitEvent } from './webhooks.js';

/**
 * @module
 * Heads' signing keys (SPEC "Signed sign-offs"). A department_head or
 * security_head registers one Ed25519 public key; every decision they take is
 * then a signature by it. Once set, the key cannot be replaced by its holder
 * (a stolen token must not be able to swap in the thief's key): an admin
 * clears it first, and both steps are audited.
 */

export interface MeView {
  id: string;
  name: string;
  department: string;
  roles: Principal['roles'];
  signingKeyId?: string;
}

export async function describeMe(deps: Pick<DomainDeps, 'db'>, actor: Principal): Promise<MeView> {
  const key = await repo.findSigningKey(deps.db, actor.id);
  return {
    id: actor.id,
    name: actor.name,
    department: actor.department,
    roles: actor.roles,
    ...(key ? { signingKeyId: key.keyId } : {}),
  };
}

export interface SigningKeyView {
  principalId: string;
  publicKey: string;
  signingKeyId: string;
  setAt: string;
}

/**
 * Registers the actor's signing key. The same key again is answered as set
 * (a retried PUT); another key while one is set is a conflict.
 */
export async function registerSigningKey(
  deps: DomainDeps,
  actor: Principal,
  publicKeyText: string,
): Promise<{ created: boolean; key: SigningKeyView }> {
  if (!hasRole(actor, 'department_head', 'security_head'))
    throw forbidden('only a department_head or a security_head signs decisions', 'wrong_role');
  const publicKey = parseSigningPublicKey(publicKeyText);
  if (!publicKey) throw badRequest('publicKey', 'must be an Ed25519 public key: 32 bytes, base64url without padding');
  const at = deps.clock.now();
  const record = { publicKey: publicKeyText, keyId: signingKeyId(publicKey), setAt: at };
  return deps.db.transaction(async (tx) => {
    if (!(await repo.setSigningKey(tx, actor.id, record))) {
      const existing = await repo.findSigningKey(tx, actor.id);
      if (existing?.publicKey === publicKeyText) return { created: false, key: view(actor.id, existing) };
      throw conflict(
        'signing_key_already_set',
        `a signing key (${existing?.keyId ?? 'unknown'}) is already registered; an admin must clear it before another is set`,
      );
    }
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'principal.signing_key_set',
      outcome: 'ok',
      details: { principalId: actor.id, signingKeyId: record.keyId, publicKey: record.publicKey },
    });
    await emitEvent(tx, deps, at, 'principal.signing_key_set', {
      principalId: actor.id,
      roles: actor.roles,
      signingKeyId: record.keyId,
      setAt: at.toISOString(),
    });
    return { created: true, key: view(actor.id, record) };
  });
}

/** An admin clears a head's signing key (a lost browser, a new laptop) so that the head can register another. */
export async function clearSigningKey(
  deps: DomainDeps,
  actor: Principal,
  principalId: string,
): Promise<SigningKeyView> {
  if (!hasRole(actor, 'admin')) throw forbidden('only an admin clears a signing key', 'wrong_role');
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    if (!(await repo.findPrincipal(tx, principalId))) throw notFound('principal');
    const cleared = await repo.clearSigningKey(tx, principalId);
    if (!cleared) throw conflict('no_signing_key', `principal ${principalId} has no signing key to clear`);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'principal.signing_key_cleared',
      outcome: 'ok',
      details: { principalId, signingKeyId: cleared.keyId },
    });
    return view(principalId, cleared);
  });
}

const view = (principalId: string, k: repo.SigningKeyRecord): SigningKeyView => ({
  principalId,
  publicKey: k.publicKey,
  signingKeyId: k.keyId,
  setAt: k.setAt.toISOString(),
});
