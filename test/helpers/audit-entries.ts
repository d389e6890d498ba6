import request from 'supertest';
import { bearer } from './actors.js';
import type { TestVault } from './vault.js';

export interface ListedAuditEntry {
  action: string;
  actorId: string | null;
  orderId: string | null;
  details: Record<string, unknown>;
}

/** Every audit entry, paged through GET /v1/audit with an auditor's (or security head's) token. */
export async function auditEntries(vault: TestVault, token: string): Promise<ListedAuditEntry[]> {
  const out: ListedAuditEntry[] = [];
  let after: string | null = null;
  do {
    const res: request.Response = await request(vault.server)
      .get(`/v1/audit?limit=1000${after ? `&after=${after}` : ''}`)
      .set(bearer(token));
    if (res.status !== 200) throw new Error(`GET /v1/audit: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...(res.body.entries as ListedAuditEntry[]));
    after = res.body.nextAfter as string | null;
  } while (after);
  return out;
}
