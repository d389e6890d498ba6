import { appendAudit } from '../audit/audit-log.js';
import type { Queryable } from '../store/db/database.js';
import { stopRunningRecordings } from '../store/db/recordings.js';
import type { DomainDeps } from './deps.js';
import { followRetention } from './order-key-epochs.js';
import type { ConsentParty } from './vocabulary.js';

/**
 * @module
 * What an objection does to recordings already under way (SPEC step 2). The
 * consent gate (consent.ts) keeps new recordings from starting; this stops
 * the running ones.
 */

/**
 * SPEC step 2: an objection that arrives while a recording is under way stops
 * it. Called in the objection's own transaction, with the order locked, so a
 * chunk either committed before (and is kept) or sees the recording closed
 * (409 consent_withdrawn); the closed consent gate keeps any new one from
 * starting.
 */
export async function stopRecordingsOnObjection(
  deps: DomainDeps,
  tx: Queryable,
  at: Date,
  objection: { orderId: string; consentId: string; party: ConsentParty; actorId: string },
): Promise<string[]> {
  const stopped = await stopRunningRecordings(tx, objection.orderId, at, deps.config.retentionMs);
  // The stopped recordings now have a retainUntil: the order key follows it, before any audit entry (lock order).
  if (stopped.length > 0) await followRetention(deps, tx, objection.orderId, 'recording.incomplete');
  for (const r of stopped) {
    await appendAudit(tx, at, {
      actorId: objection.actorId,
      action: 'recording.incomplete',
      outcome: 'ok',
      orderId: objection.orderId,
      recordingId: r.id,
      details: {
        reason: 'consent_withdrawn',
        consentId: objection.consentId,
        party: objection.party,
        storedChunks: r.storedChunks,
        retainUntil: r.retainUntil.toISOString(),
      },
    });
  }
  deps.metrics.recordingsIncomplete.inc(stopped.length);
  return stopped.map((r) => r.id);
}
