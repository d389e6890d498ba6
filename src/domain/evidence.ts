import { type AuditRow, appendAudit, toEntry } from '../audit/audit-log.js';
import { EVIDENCE_VERSION, type EvidenceBundle } from '../audit/evidence-bundle.js';
import { newestCheckpoint, sequence } from '../audit/sequencer.js';
import { overStoredTree } from '../audit/tree-store.js';
import { type Hash, inclusionProof } from '../crypto/merkle.js';
import { chunksRoot } from '../crypto/receipt.js';
import { notFound } from '../errors.js';
import { activeHoldsOfOrder } from '../store/db/holds.js';
import { findOrder } from '../store/db/orders.js';
import { chunkManifest, listRecordingsOfOrder } from '../store/db/recordings.js';
import { type AccessRequestView, listRequestsFor } from './access-requests.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';
import { statusAt } from './retention.js';

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

  const accessRequests: AccessRequestView[] = [];
  for (let after: string | undefined; ; ) {
    const page = await listRequestsFor(deps, actor, { orderId, after, limit: 100 });
    accessRequests.push(...page.requests);
    if (!page.nextAfter) break;
    after = page.nextAfter;
  }
  // Where each signer's key entered the log, so that a verifier ties every signature to it.
  const signers = [
    ...new Set(accessRequests.flatMap((r) => r.decisions.flatMap((d) => (d.signature ? [d.deciderId] : [])))),
  ];
  const keyRows = await deps.db.query<AuditRow>(
    `SELECT * FROM audit_log WHERE action = 'principal.signing_key_set' AND details->>'principalId' = ANY($1::text[])
        AND leaf_index < $2 ORDER BY leaf_index`,
    [signers, size],
  );
  const proven = (list: AuditRow[], proofs: Hash[][]) =>
    list.map((r, i) => {
      const { index, ...entry } = toEntry(r);
      return { index: index ?? 0, entry, inclusion: (proofs[i] ?? []).map((h) => h.toString('hex')) };
    });
  const proofs = await overStoredTree(deps.db, (s) =>
    [...rows, ...keyRows].map((r) => inclusionProof(s, r.leaf_index ?? 0, size)),
  );
  const entries = proven(rows, proofs.slice(0, rows.length));
  const signingKeys = proven(keyRows, proofs.slice(rows.length));

  const recordings = [];
  // Each status as it reads now: expired by time is expired, swept or not (SPEC step 8).
  const readAt = deps.clock.now();
  const held = (await activeHoldsOfOrder(deps.db, orderId, readAt)).length > 0;
  for (const rec of await listRecordingsOfOrder(deps.db, orderId)) {
    const chunks = await chunkManifest(deps.db, rec.id);
    recordings.push({
      recordingId: rec.id,
      status: statusAt(rec, readAt, held),
      chunks,
      chunksRoot: chunksRoot(chunks.map((c) => c.sha256)),
      receipt: rec.receipt,
    });
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
    signingKeys,
    recordings,
    accessRequests,
  };
}
