import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/store/blobs/blob-store.js';

export type BlobStoreFactory = () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>;

/**
 * The behaviour every BlobStore backend must have, written once
 * (tus-node-server's shared store suites, with the store passed in).
 */
export function describeBlobStoreContract(name: string, factory: BlobStoreFactory): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await factory());
    });
    afterAll(async () => cleanup?.());

    it('round-trips binary data, including zero bytes and 4 MiB', async () => {
      const small = Uint8Array.from([0, 1, 0, 255, 0]);
      const big = randomBytes(4 * 1024 * 1024);
      await store.put('rt/small', small);
      await store.put('rt/big', big);
      expect(await store.get('rt/small')).toEqual(Buffer.from(small));
      expect(Buffer.compare((await store.get('rt/big'))!, big)).toBe(0);
      await store.put('rt/empty', new Uint8Array(0));
      expect((await store.get('rt/empty'))?.length).toBe(0);
    });

    it('overwrites a key', async () => {
      await store.put('ow/k', Buffer.from('first'));
      await store.put('ow/k', Buffer.from('second'));
      expect((await store.get('ow/k'))?.toString()).toBe('second');
    });

    it('answers null for a missing object', async () => {
      expect(await store.get('missing/none')).toBeNull();
      expect(await store.head('missing/none')).toBeNull();
    });

    it('reads inclusive byte ranges', async () => {
      await store.put('rg/k', Buffer.from('0123456789'));
      expect((await store.get('rg/k', { range: { start: 0, end: 0 } }))?.toString()).toBe('0');
      expect((await store.get('rg/k', { range: { start: 3, end: 6 } }))?.toString()).toBe('3456');
      expect((await store.get('rg/k', { range: { start: 9, end: 9 } }))?.toString()).toBe('9');
      expect((await store.get('rg/k', { range: { start: 0, end: 9 } }))?.toString()).toBe('0123456789');
    });

    it('reports the size in head', async () => {
      await store.put('hd/k', new Uint8Array(1234));
      expect(await store.head('hd/k')).toMatchObject({ key: 'hd/k', size: 1234 });
    });

    it('deletes once, then reports NOT_FOUND', async () => {
      await store.put('del/k', Buffer.from('x'));
      expect(await store.delete('del/k')).toBe('DELETED');
      expect(await store.delete('del/k')).toBe('NOT_FOUND');
      expect(await store.get('del/k')).toBeNull();
    });

    it('lists a prefix sorted, without its neighbours', async () => {
      for (const k of ['ls/a/2', 'ls/a/1', 'ls/a/10', 'ls/ab/1', 'ls/b']) await store.put(k, Buffer.from(k));
      expect(await store.list('ls/a/')).toEqual(['ls/a/1', 'ls/a/10', 'ls/a/2']);
      expect(await store.list('ls/ab/')).toEqual(['ls/ab/1']);
      expect(await store.list('ls/none/')).toEqual([]);
    });

    it('deletes a prefix and counts what it deleted', async () => {
      for (let i = 0; i < 5; i++) await store.put(`dp/x/${i}`, Buffer.from([i]));
      await store.put('dp/y/keep', Buffer.from('keep'));
      expect(await store.deletePrefix('dp/x/')).toBe(5);
      expect(await store.list('dp/x/')).toEqual([]);
      expect(await store.deletePrefix('dp/x/')).toBe(0);
      expect((await store.get('dp/y/keep'))?.toString()).toBe('keep');
    });

    it.each(['../x', '/abs', 'a//b', 'a/../b', 'a/./b', 'nul\u0000byte', '', 'sp ace'])(
      'rejects the unsafe key %j',
      async (key) => {
        await expect(store.put(key, Buffer.from('x'))).rejects.toThrow();
        await expect(store.get(key)).rejects.toThrow();
      },
    );

    it('lands many concurrent puts of different keys', async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.put(`cc/${String(i).padStart(2, '0')}`, Buffer.from([i]))),
      );
      expect(await store.list('cc/')).toHaveLength(30);
    });

    it('rejects a call whose signal is already aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      await expect(store.put('ab/k', Buffer.from('x'), { signal: ac.signal })).rejects.toThrow();
      expect(await store.get('ab/k')).toBeNull();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
