import type { Principal, Role } from '../../domain/principal.js';
import type { Queryable } from './database.js';

interface PrincipalRow {
  id: string;
  name: string;
  department: string;
  roles: Role[];
  revoked_at: Date | null;
}

const toPrincipal = (r: PrincipalRow): Principal => ({
  id: r.id,
  name: r.name,
  department: r.department,
  roles: r.roles,
});

export async function insertPrincipal(q: Queryable, p: Principal, at: Date): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO principals (id, name, department, roles, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [p.id, p.name, p.department, p.roles, at],
  );
  return rows.length === 1;
}

export async function insertToken(q: Queryable, tokenHash: string, principalId: string, at: Date): Promise<void> {
  await q.query('INSERT INTO tokens (token_hash, principal_id, created_at) VALUES ($1, $2, $3)', [
    tokenHash,
    principalId,
    at,
  ]);
}

/** The active principal owning an active token, or null. */
export async function findPrincipalByTokenHash(q: Queryable, tokenHash: string): Promise<Principal | null> {
  const [row] = await q.query<PrincipalRow>(
    `SELECT p.* FROM tokens t JOIN principals p ON p.id = t.principal_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND p.revoked_at IS NULL`,
    [tokenHash],
  );
  return row ? toPrincipal(row) : null;
}

export async function findPrincipal(q: Queryable, id: string): Promise<(Principal & { revoked: boolean }) | null> {
  const [row] = await q.query<PrincipalRow>('SELECT * FROM principals WHERE id = $1', [id]);
  return row ? { ...toPrincipal(row), revoked: row.revoked_at !== null } : null;
}

export async function listPrincipals(q: Queryable): Promise<(Principal & { revoked: boolean })[]> {
  const rows = await q.query<PrincipalRow>('SELECT * FROM principals ORDER BY id');
  return rows.map((r) => ({ ...toPrincipal(r), revoked: r.revoked_at !== null }));
}

/** Revokes the principal and every token it holds; false when already revoked. */
export async function revokePrincipal(q: Queryable, id: string, at: Date): Promise<boolean> {
  const rows = await q.query(
    'UPDATE principals SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
    [id, at],
  );
  await q.query('UPDATE tokens SET revoked_at = $2 WHERE principal_id = $1 AND revoked_at IS NULL', [id, at]);
  return rows.length === 1;
}

export async function activeAdminExists(q: Queryable): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM principals WHERE 'admin' = ANY(roles) AND revoked_at IS NULL LIMIT 1`);
  return rows.length > 0;
}

/** Display names of the given principals, revoked ones included (a trail names people who have since left). */
export async function principalNames(q: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ id: string; name: string }>(
    'SELECT id, name FROM principals WHERE id = ANY($1::text[])',
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** A principal's registered Ed25519 public key (base64url) and its key id. */
export interface SigningKeyRecord {
  publicKey: string;
  keyId: string;
  setAt: Date;
}

/** The principal's signing key, or null. With `forShare`, the row cannot change until the transaction ends. */
export async function findSigningKey(
  q: Queryable,
  principalId: string,
  { forShare = false } = {},
): Promise<SigningKeyRecord | null> {
  const [row] = await q.query<{
    signing_key: string | null;
    signing_key_id: string | null;
    signing_key_set_at: Date | null;
  }>(
    `SELECT signing_key, signing_key_id, signing_key_set_at FROM principals WHERE id = $1${forShare ? ' FOR SHARE' : ''}`,
    [principalId],
  );
  if (!row?.signing_key || !row.signing_key_id || !row.signing_key_set_at) return null;
  return { publicKey: row.signing_key, keyId: row.signing_key_id, setAt: row.signing_key_set_at };
}

/** Sets the key only where none is set; false when one already was. */
export async function setSigningKey(q: Queryable, principalId: string, key: SigningKeyRecord): Promise<boolean> {
  const rows = await q.query(
    `UPDATE principals SET signing_key = $2, signing_key_id = $3, signing_key_set_at = $4
      WHERE id = $1 AND signing_key IS NULL RETURNING id`,
    [principalId, key.publicKey, key.keyId, key.setAt],
  );
  return rows.length === 1;
}

/** Clears the key; returns the one that was set, or null when none was. */
export async function clearSigningKey(q: Queryable, principalId: string): Promise<SigningKeyRecord | null> {
  const existing = await findSigningKey(q, principalId, { forShare: true });
  if (!existing) return null;
  await q.query(
    'UPDATE principals SET signing_key = NULL, signing_key_id = NULL, signing_key_set_at = NULL WHERE id = $1',
    [principalId],
  );
  return existing;
}

/** Active principals holding any of these roles: who could sign a request being filed now. */
export async function activeWithRoles(q: Queryable, roles: readonly Role[]): Promise<Principal[]> {
  const rows = await q.query<PrincipalRow>(
    'SELECT * FROM principals WHERE revoked_at IS NULL AND roles && $1::text[] ORDER BY id',
    [roles],
  );
  return rows.map(toPrincipal);
}

/** Which of these principals are revoked. */
export async function revokedAmong(q: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await q.query<{ id: string }>(
    'SELECT id FROM principals WHERE id = ANY($1::text[]) AND revoked_at IS NOT NULL',
    [[...new Set(ids)]],
  );
  return new Set(rows.map((r) => r.id));
}
