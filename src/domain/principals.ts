import { appendAudit } from '../audit/audit-log.js';
import { conflict, notFound } from '../errors.js';
import * as repo from '../store/db/principals.js';
import type { DomainDeps } from './deps.js';
import { assertAssignable, conflictingRole, hasRole, type Principal } from './principal.js';
import { hashToken, newToken } from './tokens.js';
import { SIGN_OFFS, type SignOff } from './vocabulary.js';
import { emitEvent } from './webhooks.js';

export const BOOTSTRAP_ADMIN_ID = 'bootstrap-admin';
const BOOTSTRAP_LOCK = 7_042_003;

export async function createPrincipal(
  deps: DomainDeps,
  actor: Principal,
  input: Principal,
): Promise<{ token: string }> {
  assertAssignable(input);
  const token = await newToken();
  const at = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    if (!(await repo.insertPrincipal(tx, input, at)))
      throw conflict('principal_exists', `principal ${input.id} already exists`);
    await repo.insertToken(tx, hashToken(token), input.id, at);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'principal.created',
      outcome: 'ok',
      details: { principalId: input.id, department: input.department, roles: input.roles },
    });
    // A principal's roles are set only when it is created: that is when it gains a sign-off role.
    for (const role of SIGN_OFFS.filter((r: SignOff) => input.roles.includes(r)))
      await emitEvent(tx, deps, at, 'principal.role_granted', {
        principalId: input.id,
        department: input.department,
        role,
        roles: input.roles,
        grantedBy: actor.id,
        grantedAt: at.toISOString(),
      });
  });
  return { token };
}

export async function revokePrincipal(deps: DomainDeps, actor: Principal, id: string): Promise<void> {
  if (id === actor.id) throw conflict('cannot_revoke_self', 'an admin cannot revoke itself');
  const at = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const existing = await repo.findPrincipal(tx, id);
    if (!existing) throw notFound('principal');
    if (!(await repo.revokePrincipal(tx, id, at)))
      throw conflict('already_revoked', `principal ${id} is already revoked`);
    await appendAudit(tx, at, {
      actorId: actor.id,
      action: 'principal.revoked',
      outcome: 'ok',
      details: { principalId: id },
    });
  });
}

/** Whether any admin can sign in: the server says at start how to create the first one when none can. */
export async function adminExists(deps: Pick<DomainDeps, 'db'>): Promise<boolean> {
  return repo.activeAdminExists(deps.db);
}

/** Creates the first admin with the configured token, only while no active admin exists. */
export async function bootstrapAdmin(deps: DomainDeps, token: string): Promise<boolean> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    if (await repo.activeAdminExists(tx)) return false;
    const admin: Principal = {
      id: BOOTSTRAP_ADMIN_ID,
      name: 'Bootstrap admin',
      department: 'administration',
      roles: ['admin'],
    };
    if (!(await repo.insertPrincipal(tx, admin, at))) return false;
    await repo.insertToken(tx, hashToken(token), admin.id, at);
    await appendAudit(tx, at, {
      actorId: null,
      action: 'principal.bootstrapped',
      outcome: 'ok',
      details: { principalId: admin.id },
    });
    return true;
  });
}

/**
 * The active principal holding this token. The first time another admin
 * signs in, the bootstrap admin is revoked (SPEC: its token stops working
 * once another admin exists and has signed in once), audited.
 */
export async function authenticate(deps: Pick<DomainDeps, 'db' | 'clock'>, token: string): Promise<Principal | null> {
  const principal = await repo.findPrincipalByTokenHash(deps.db, hashToken(token));
  if (principal) await signedIn(deps, principal);
  return principal;
}

/** What a sign-in entails beyond the token's check; for a route that checks the token in a query of its own. */
export async function signedIn(deps: Pick<DomainDeps, 'db' | 'clock'>, principal: Principal): Promise<void> {
  if (principal.id !== BOOTSTRAP_ADMIN_ID && hasRole(principal, 'admin'))
    await retireBootstrapAdmin(deps, principal.id);
}

const PRINCIPALS_ACTOR = 'system:principals';

/** Revokes the bootstrap admin, if it is still active, because `adminId` signed in. */
async function retireBootstrapAdmin(deps: Pick<DomainDeps, 'db' | 'clock'>, adminId: string): Promise<void> {
  // The common case (already retired, or never made) costs one indexed read and no transaction.
  const bootstrap = await repo.findPrincipal(deps.db, BOOTSTRAP_ADMIN_ID);
  if (!bootstrap || bootstrap.revoked) return;
  const at = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    // Two admins signing in at once: only the one whose update lands writes the audit entry.
    if (!(await repo.revokePrincipal(tx, BOOTSTRAP_ADMIN_ID, at))) return;
    await appendAudit(tx, at, {
      actorId: PRINCIPALS_ACTOR,
      action: 'principal.revoked',
      outcome: 'ok',
      details: { principalId: BOOTSTRAP_ADMIN_ID, reason: 'another admin signed in', adminId },
    });
  });
}

/**
 * Active principals whose roles break separation of duties (made before the
 * rule, or written into the database by hand): their ids and roles, for the
 * start-up warning. Nothing secret.
 */
export async function principalsWithConflictingRoles(
  deps: Pick<DomainDeps, 'db'>,
): Promise<{ id: string; roles: Principal['roles'] }[]> {
  return (await repo.listPrincipals(deps.db))
    .filter((p) => !p.revoked && conflictingRole(p.roles) !== null)
    .map((p) => ({ id: p.id, roles: p.roles }));
}
