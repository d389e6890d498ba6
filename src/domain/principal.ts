import { badRequest } from '../errors.js';
import { type Role, SYSTEM_ACTOR_PREFIX } from './vocabulary.js';

export { ROLES, type Role } from './vocabulary.js';

export interface Principal {
  id: string;
  name: string;
  department: string;
  roles: Role[];
}

export const hasRole = (p: Principal, ...roles: Role[]): boolean => roles.some((r) => p.roles.includes(r));

/**
 * SPEC, separation of duties: each of these is held alone. A platform that is
 * also a beautician would pass the ownership check of every order; an admin
 * that holds a working role could issue itself any other.
 */
export const SOLE_ROLES: readonly Role[] = ['platform', 'beautician', 'admin'];

/** The sole role this set combines with another, or null when the set may be held together. */
export function conflictingRole(roles: readonly Role[]): Role | null {
  if (new Set(roles).size < 2) return null;
  return SOLE_ROLES.find((r) => roles.includes(r)) ?? null;
}

/**
 * What any path that creates a principal or grants it roles checks first:
 * no sole role combined with another (400 role_conflict), no id in the
 * vault's own `system:` namespace (400 reserved_id).
 */
export function assertAssignable(p: Pick<Principal, 'id' | 'roles'>): void {
  if (p.id.toLowerCase().startsWith(SYSTEM_ACTOR_PREFIX))
    throw badRequest(
      'id',
      `ids beginning with ${SYSTEM_ACTOR_PREFIX} are reserved for the vault's own actors`,
      'reserved_id',
    );
  const sole = conflictingRole(p.roles);
  if (sole)
    throw badRequest('roles', `${sole} is held alone: a principal with it may hold no other role`, 'role_conflict');
}
