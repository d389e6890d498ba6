import type { Clock } from '../clock.js';
import { generateEpochKey, unwrapEpochKey, wrapEpochKey } from '../crypto/epoch-keys.js';
import type { Keyring } from '../crypto/keyring.js';
import { sodiumReady } from '../crypto/sodium.js';
import type { Queryable } from '../store/db/database.js';
import * as epochs from '../store/db/epochs.js';
import type { EpochKeyStore } from '../store/epoch-key-store.js';
import type { EpochRef } from './epochs.js';

/**
 * @module
 * The running vault's access to epoch keys: the store outside the database,
 * unwrapped with the keyring, kept in memory briefly so that registering
 * orders and playing recordings do not read the store every time.
 *
 * A cached key is only ever used for an order the database (in the same
 * transaction, or just before) says is wrapped under it, and a key is only
 * destroyed once no order is, so a cached copy on another server outliving
 * the stored one by up to CACHE_MS can open nothing the database still points at.
 */
export interface EpochKeys {
  store: EpochKeyStore;
  /** A copy of the unwrapped key (the caller wipes it), or null when the store has none: destroyed. */
  open(epoch: string): Promise<Uint8Array | null>;
  /** Drops (and wipes) the cached copy, after the key was destroyed or rewrapped. */
  forget(epoch: string): void;
}

const CACHE_MS = 60_000;
const CACHE_MAX = 64;

export function createEpochKeys(store: EpochKeyStore, keyring: Keyring, clock: Clock): EpochKeys {
  const cache = new Map<string, { key: Uint8Array; at: number }>();
  const forget = (epoch: string) => {
    const hit = cache.get(epoch);
    if (hit) sodiumReady().memzero(hit.key);
    cache.delete(epoch);
  };
  return {
    store,
    async open(epoch) {
      const now = clock.now().getTime();
      const hit = cache.get(epoch);
      if (hit && now - hit.at >= 0 && now - hit.at < CACHE_MS) return hit.key.slice();
      forget(epoch);
      const stored = await store.get(epoch);
      if (!stored) return null;
      const key = unwrapEpochKey(keyring, stored);
      if (cache.size >= CACHE_MAX) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) forget(oldest);
      }
      cache.set(epoch, { key, at: now });
      return key.slice();
    },
    forget,
  };
}

/** The epoch key was destroyed (or is missing from the store): nothing wrapped under it opens any more. */
export class EpochKeyGoneError extends Error {
  override name = 'EpochKeyGoneError';
  constructor(readonly epoch: string) {
    super(`the key of epoch ${epoch} is not in the epoch key store: it was destroyed`);
  }
}

/**
 * The key of `ref`, made if it does not exist yet, for wrapping an order key
 * under it inside `tx`. On return the epoch's row is locked FOR KEY SHARE until
 * `tx` ends, so the key cannot be destroyed before the wrap commits.
 *
 * A new key is stored durably before its row is written, so a committed row
 * always has its key. A transaction that rolls back after storing a new key
 * leaves a key without a row: the next creator of the same epoch adopts it,
 * and the sweeper adopts any that are left (src/domain/epoch-shredder.ts).
 */
export async function epochKeyForWrapping(
  deps: { epochKeys: EpochKeys; keyring: Keyring },
  tx: Queryable,
  ref: EpochRef,
  now: Date,
): Promise<Uint8Array> {
  const existing = await epochs.findEpoch(tx, ref.id, 'key share');
  if (existing) return openLiveEpoch(deps, existing);
  await epochs.lockEpochCreation(tx, ref.id);
  // A fresh statement after the lock sees a row another creator committed meanwhile.
  const created = await epochs.findEpoch(tx, ref.id, 'key share');
  if (created) return openLiveEpoch(deps, created);
  let stored = await deps.epochKeys.store.get(ref.id);
  if (!stored) {
    const key = generateEpochKey();
    try {
      stored = wrapEpochKey(deps.keyring, ref.id, key);
    } finally {
      sodiumReady().memzero(key);
    }
    await deps.epochKeys.store.put(stored);
  }
  await epochs.insertEpoch(tx, { ...ref, kekVersion: stored.kekVersion, createdAt: now });
  const row = await epochs.findEpoch(tx, ref.id, 'key share');
  if (!row) throw new Error(`epoch ${ref.id} has no row right after it was written`);
  return openLiveEpoch(deps, row);
}

async function openLiveEpoch(deps: { epochKeys: EpochKeys }, row: epochs.EpochRow): Promise<Uint8Array> {
  // Never reached in normal operation (keys are made only for epochs that have not ended, and destroyed
  // only long after theirs ended); refusing here is what keeps a wrap off a destroyed key regardless.
  if (row.destroyedAt) throw new EpochKeyGoneError(row.id);
  const key = await deps.epochKeys.open(row.id);
  if (!key) throw new EpochKeyGoneError(row.id);
  return key;
}
