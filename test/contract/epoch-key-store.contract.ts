import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WrappedEpochKey } from '../../src/crypto/epoch-keys.js';
import type { EpochKeyStore } from '../../src/store/epoch-key-store.js';

export type EpochKeyStoreFactory = () => Promise<{
  store: EpochKeyStore;
  /** every stored object's name, straight from the backend (files in the directory, keys in the bucket) */
  rawNames(): Promise<string[]>;
  /** opens the same backend again, as another server or a restart would */
  reopen(): Promise<EpochKeyStore>;
  cleanup(): Promise<void>;
}>;

const key = (epoch: string, kekVersion = 1): WrappedEpochKey => ({
  epoch,
  kekVersion,
  wrappedKey: new Uint8Array(randomBytes(72)),
});

/** What every epoch key store backend must do, written once, the store passed in. */
export function describeEpochKeyStoreContract(name: string, factory: EpochKeyStoreFactory): void {
  describe(`EpochKeyStore contract: ${name}`, () => {
    let store: EpochKeyStore;
    let ctx: Awaited<ReturnType<EpochKeyStoreFactory>>;
    beforeAll(async () => {
      ctx = await factory();
      store = ctx.store;
    });
    afterAll(async () => ctx?.cleanup());

    it('round-trips a day epoch and a hold key, and answers null for one it never had', async () => {
      const day = key('2026-01-08T00:00:00.000Z');
      const hold = key('hold:hold_0123abcd', 3);
      await store.put(day);
      await store.put(hold);
      expect(await store.get(day.epoch)).toEqual(day);
      expect(await store.get(hold.epoch)).toEqual(hold);
      expect(await store.get('2026-01-09T00:00:00.000Z')).toBeNull();
      expect(await store.get('hold:hold_never')).toBeNull();
    });

    it('keeps a key where another server (or a restart) finds it', async () => {
      const k = key('2026-02-01T12:00:00.000Z');
      await store.put(k);
      const other = await ctx.reopen();
      try {
        expect(await other.get(k.epoch)).toEqual(k);
      } finally {
        await other.close();
      }
    });

    it('replaces a key in place (KEK rotation), leaving no copy under the old version', async () => {
      const epoch = '2026-03-01T00:00:00.000Z';
      await store.put(key(epoch, 1));
      const rewrapped = key(epoch, 2);
      await store.put(rewrapped);
      expect(await store.get(epoch)).toEqual(rewrapped);
      expect((await ctx.rawNames()).filter((n) => n.includes('2026-03-01'))).toHaveLength(1);
    });

    it('destroys a key once: gone from get and list, no copy left behind, NOT_FOUND after', async () => {
      const k = key('2026-04-01T00:00:00.000Z');
      await store.put(k);
      expect(await store.list()).toContain(k.epoch);
      expect(await store.destroy(k.epoch)).toBe('DELETED');
      expect(await store.get(k.epoch)).toBeNull();
      expect(await store.list()).not.toContain(k.epoch);
      expect((await ctx.rawNames()).filter((n) => n.includes('2026-04-01'))).toEqual([]);
      expect(await store.destroy(k.epoch)).toBe('NOT_FOUND');
      const other = await ctx.reopen();
      try {
        expect(await other.get(k.epoch)).toBeNull();
      } finally {
        await other.close();
      }
    });

    it('lists the ids of every stored key, sorted, both kinds', async () => {
      const ids = ['2026-05-02T00:00:00.000Z', '2026-05-01T00:00:00.000Z', 'hold:hold_list_b', 'hold:hold_list_a'];
      for (const id of ids) await store.put(key(id));
      const listed = await store.list();
      for (const id of ids) expect(listed).toContain(id);
      expect(listed).toEqual([...listed].sort());
    });

    it.each(['', '2026-01-01', '2026-01-01T00:00:00Z', 'hold:', 'hold:../x', '../epochs/x', 'epochs/x'])(
      'refuses the malformed id %j',
      async (bad) => {
        await expect(store.get(bad)).rejects.toThrow(/not an epoch id/);
        await expect(store.put(key(bad))).rejects.toThrow(/not an epoch id/);
      },
    );

    it('answers ping while reachable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
