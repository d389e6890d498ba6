export const ROLES = [
  'platform',
  'beautician',
  'dispute_staff',
  'department_head',
  'security_head',
  'auditor',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  name: string;
  department: string;
  roles: Role[];
}

export const hasRole = (p: Principal, ...roles: Role[]): boolean => roles.some((r) => p.roles.includes(r));
