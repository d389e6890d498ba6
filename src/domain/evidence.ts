import { type AuditRow, appendAudit, toEntry } from '../audit/audit-log.js';
import { EVIDENCE_VERSION, type EvidenceBundle } from '../audit/evidence-bundle.js';
import { newestCheckpoint, sequence } from '../audit/sequencer.js';
import { overStoredTree } from '../audit/tree-store.js';
import { inclusionProof } from '../crypto/merkle.js';
import { chunksRoot } from '../crypto/receipt.js';
import { notFound } from '../errors.js';
import { findOrder } from '../store/db/orders.js';
import { chunkManifest, listRecordingsOfOrder } from '../store/db/recordings.js';
import { type AccessRequestView, listRequestsFor } from './access-requests.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';

/**
 * @module
 * Exports one order's evidence bundle (src/audit/evidence-bundle.ts). First
 * every committed entry is sequenced, so that the bundle's one checkpoint
 * covers the order's whole trail; the proofs are read in one query.
 */
export async function exportEvidence(deps: DomainDeps, actor: Principal, orderId: string): Promise<EvidenceBundle> {
  if (!(await findOrder(deps.db, orderId))) throw notFound('order');
  await sequence(deps, { wait: true });
  const checkpoint = await newestCheckpoint(deps.db);
  if (!checkpoint) throw new Error('no checkpoint after sequencing');
  const size = checkpoint.size;
  const rows = await deps.db.query<AuditRow>(
    'SELECT * FROM audit_log WHERE order_id = $1 AND leaf_index < $2 ORDER BY leaf_index',
    [orderId, size],
  );
  const proofs = await overStoredTree(deps.db, (s) => rows.map((r) => inclusionProof(s, r.leaf_index ?? 0, size)));
  const entries = rows.map((r, i) => {
    const { index, ...entry } = toEntry(r);
    return { index: index ?? 0, entry, inclusion: (proofs[i] ?? []).map((h) => h.toString('hex')) };
  });

  const recordings = [];
  for (const rec of await listRecordingsOfOrder(deps.db, orderId)) {
    const chunks = await chunkManifest(deps.db, rec.id);
    recordings.push({
      recordingId: rec.id,
      status: rec.status,
      chunks,
      chunksRoot: chunksRoot(chunks.map((c) => c.sha256)),
      receipt: rec.receipt,
    });
  }

  const accessRequests: AccessRequestView[] = [];
  for (let after: string | undefined; ; ) {
    const page = await listRequestsFor(deps, actor, { orderId, after, limit: 100 });
    accessRequests.push(...page.requests);
    if (!page.nextAfter) break;
    after = page.nextAfter;
  }

  const exportedAt = deps.clock.now();
  await deps.db.transaction((tx) =>
    appendAudit(tx, exportedAt, {
      actorId: actor.id,
      action: 'evidence.exported',
      outcome: 'ok',
      orderId,
      details: { treeSize: size, entries: entries.length, recordings: recordings.length },
    }),
  );
  return {
    v: EVIDENCE_VERSION,
    orderId,
    exportedAt: exportedAt.toISOString(),
    checkpoint: checkpoint.note,
    entries,
    recordings,
    accessRequests,
  };
}
