import { appendAudit } from '../audit/audit-log.js';
import { rewrapEpochKey } from '../crypto/epoch-keys.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Queryable } from '../store/db/database.js';
import * as epochs from '../store/db/epochs.js';
import * as keys from '../store/db/order-keys.js';
import type { DomainDeps } from './deps.js';

/**
 * @module
 * KEK rotation. KEKs wrap epoch keys, and epoch keys wrap order keys, so a
 * rotation rewraps the few live epoch keys in the epoch key store and touches
 * neither order keys nor audio. Each key is rewrapped in a transaction that
 * holds its epoch row FOR NO KEY UPDATE, so a key being destroyed at the same
 * moment is never written back. Resumable: an interrupted run leaves the rest
 * under their old version, and the next run continues with them.
 */
export async function rewrapEpochKeys(
  deps: Pick<DomainDeps, 'db' | 'keyring' | 'clock' | 'epochKeys'>,
  options: { batchSize?: number; actorId?: string } = {},
): Promise<{ rewrapped: number; missing: string[]; toVersion: number }> {
  const batchSize = options.batchSize ?? 50;
  const toVersion = deps.keyring.current.version;
  const missing: string[] = [];
  let rewrapped = 0;
  let after = '';
  for (;;) {
    const ids = await epochs.epochsNotUnder(deps.db, toVersion, after, batchSize);
    const done = await deps.db.transaction(async (tx) => {
      const fromVersions = new Set<number>();
      let n = 0;
      for (const id of ids) {
        const row = await epochs.findEpoch(tx, id, 'no key update');
        if (!row || row.destroyedAt || row.kekVersion === toVersion) continue;
        const stored = await deps.epochKeys.store.get(id);
        if (!stored) {
          // Live in the database, absent from the store: nothing to rewrap (see `vault keys epochs`).
          missing.push(id);
          continue;
        }
        await deps.epochKeys.store.put(rewrapEpochKey(deps.keyring, stored));
        await epochs.setEpochKekVersion(tx, id, toVersion);
        deps.epochKeys.forget(id);
        fromVersions.add(stored.kekVersion);
        n++;
      }
      if (n > 0) {
        await appendAudit(tx, deps.clock.now(), {
          actorId: options.actorId ?? 'system:key-rotation',
          action: 'keys.rewrapped',
          outcome: 'ok',
          details: { kind: 'epoch', count: n, fromVersions: [...fromVersions].sort((a, b) => a - b), toVersion },
        });
      }
      return n;
    });
    rewrapped += done;
    if (ids.length < batchSize) return { rewrapped, missing, toVersion };
    after = ids[ids.length - 1] ?? after;
  }
}

/**
 * Fails loudly at start, naming every KEK version that a live epoch key, or
 * an order key from before epochs (until the start-up migration moved it),
 * is wrapped with and that is not configured.
 */
export async function assertKeysAvailable(db: Queryable, keyring: Keyring): Promise<void> {
  const needs = [
    ...(await epochs.epochKekVersions(db)).map((v) => ({ version: v.version, what: `${v.epochs} epoch keys` })),
    ...(await keys.storedKekVersions(db)).map((v) => ({ version: v.version, what: `${v.orders} order keys` })),
  ];
  const missing = needs.filter((n) => !keyring.get(n.version));
  if (missing.length > 0) {
    const list = missing.map((m) => `version ${m.version} (${m.what})`).join(', ');
    throw new Error(
      `VAULT_KEKS lacks KEK ${list} that stored keys are wrapped with; add it back, or rewrap before removing it`,
    );
  }
}
