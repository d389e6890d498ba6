import { appendAudit } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { rewrapOrderSecretKey } from '../crypto/order-keys.js';
import type { Queryable } from '../store/db/database.js';
import * as keys from '../store/db/order-keys.js';
import type { DomainDeps } from './deps.js';

/**
 * KEK rotation: rewraps every order key not yet under the newest KEK, a batch
 * per transaction, touching no audio object. Resumable: an interrupted run
 * leaves the rest on their old version, and the next run continues with them.
 */
export async function rewrapOrderKeys(
  deps: Pick<DomainDeps, 'db' | 'keyring' | 'clock'>,
  options: { batchSize?: number; actorId?: string } = {},
): Promise<{ rewrapped: number; toVersion: number }> {
  const batchSize = options.batchSize ?? 500;
  const toVersion = deps.keyring.current.version;
  let rewrapped = 0;
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const batch = await keys.claimStaleWraps(tx, toVersion, batchSize);
      for (const w of batch) {
        const next = rewrapOrderSecretKey(deps.keyring, w);
        await keys.updateWrap(tx, w.orderId, next.wrappedSecretKey, next.kekVersion);
      }
      if (batch.length > 0) {
        const fromVersions = [...new Set(batch.map((w) => w.kekVersion))].sort((a, b) => a - b);
        await appendAudit(tx, deps.clock.now(), {
          actorId: options.actorId ?? 'system:key-rotation',
          action: 'keys.rewrapped',
          outcome: 'ok',
          details: { count: batch.length, fromVersions, toVersion },
        });
      }
      return batch.length;
    });
    rewrapped += n;
    if (n < batchSize) return { rewrapped, toVersion };
  }
}

/** Fails loudly at start, naming every KEK version a stored wrap needs that is not configured. */
export async function assertKeysAvailable(db: Queryable, keyring: Keyring): Promise<void> {
  const missing = (await keys.storedKekVersions(db)).filter((v) => !keyring.get(v.version));
  if (missing.length > 0) {
    const list = missing.map((m) => `version ${m.version} (${m.orders} order keys)`).join(', ');
    throw new Error(
      `VAULT_KEKS lacks KEK ${list} that stored order keys are wrapped with; add it back, or rewrap before removing it`,
    );
  }
}
