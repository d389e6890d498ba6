import type { Role } from './vocabulary.js';

export { ROLES, type Role } from './vocabulary.js';

export interface Principal {
  id: string;
  name: string;
  department: string;
  roles: Role[];
}

export const hasRole = (p: Principal, ...roles: Role[]): boolean => roles.some((r) => p.roles.includes(r));
