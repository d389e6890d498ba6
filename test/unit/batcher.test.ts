import { describe, expect, it } from 'vitest';
import { createBatcher, type ItemOutcome } from '../../src/batcher.js';

/** A run whose batches finish only when the test says so. */
function controlledRun<I>() {
  const batches: { items: I[]; finish(outcomes?: ItemOutcome<string>[]): void; fail(err: Error): void }[] = [];
  const run = (items: readonly I[]) =>
    new Promise<ItemOutcome<string>[]>((resolve, reject) => {
      batches.push({
        items: [...items],
        finish: (outcomes) => resolve(outcomes ?? items.map((i) => ({ ok: true, value: `done ${String(i)}` }))),
        fail: reject,
      });
    });
  return { batches, run };
}

const settled = <T>(p: Promise<T>) => {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
};

const tick = () => new Promise((r) => setImmediate(r));

describe('createBatcher (group commit)', () => {
  it('groups what arrives while a batch runs, and answers each caller only after its batch ran', async () => {
    const { batches, run } = controlledRun<number>();
    const b = createBatcher({ run, slots: 1 });
    const first = settled(b.submit(1));
    const later = [2, 3, 4].map((n) => settled(b.submit(n)));
    await tick();
    expect(batches.map((x) => x.items)).toEqual([[1]]);
    expect(first.done).toBe(false);
    batches[0]?.finish();
    await tick();
    expect(first).toMatchObject({ done: true, value: 'done 1' });
    // The three that waited go together, and are not answered before their batch is.
    expect(batches.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
    expect(later.every((s) => !s.done)).toBe(true);
    batches[1]?.finish();
    await tick();
    expect(later.map((s) => s.value)).toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('answers each item its own outcome: one refused item does not refuse the others', async () => {
    const { batches, run } = controlledRun<string>();
    const b = createBatcher({ run, slots: 1 });
    const blocker = settled(b.submit('a'));
    const [x, y] = [settled(b.submit('x')), settled(b.submit('y'))];
    await tick();
    batches[0]?.finish();
    await tick();
    batches[1]?.finish([
      { ok: false, error: new Error('x refused') },
      { ok: true, value: 'y stored' },
    ]);
    await tick();
    expect(blocker.value).toBe('done a');
    expect((x.error as Error).message).toBe('x refused');
    expect(y.value).toBe('y stored');
  });

  it('acknowledges nobody of a failed batch; each item is run again alone and answered by its own outcome', async () => {
    const { batches, run } = controlledRun<string>();
    const b = createBatcher({ run, slots: 1 });
    const blocker = settled(b.submit('first'));
    const waiting = ['ok1', 'poison', 'ok2'].map((i) => settled(b.submit(i)));
    await tick();
    batches[0]?.finish();
    await tick();
    expect(blocker.value).toBe('done first');
    expect(batches[1]?.items).toEqual(['ok1', 'poison', 'ok2']);
    batches[1]?.fail(new Error('the transaction failed'));
    await tick();
    expect(waiting.every((s) => !s.done)).toBe(true);
    // Alone, each gets its own answer: the poison fails again, the others commit.
    expect(batches.slice(2).map((x) => x.items)).toEqual([['ok1'], ['poison'], ['ok2']]);
    batches[2]?.finish();
    batches[3]?.fail(new Error('poison refused'));
    await tick();
    expect(waiting[0]).toMatchObject({ done: true, value: 'done ok1' });
    expect(waiting[1]?.error).toEqual(new Error('poison refused'));
    expect(waiting[2]?.done).toBe(false);
    batches[4]?.finish();
    await tick();
    expect(waiting[2]).toMatchObject({ done: true, value: 'done ok2' });
  });

  it('keeps to maxBatch and to its slots', async () => {
    const { batches, run } = controlledRun<number>();
    const b = createBatcher({ run, slots: 2, maxBatch: 3 });
    const all = Array.from({ length: 9 }, (_, i) => settled(b.submit(i)));
    await tick();
    // Two slots: the first two callers start one batch each; the rest wait, at most 3 a batch.
    expect(batches.map((x) => x.items)).toEqual([[0], [1]]);
    batches[0]?.finish();
    await tick();
    expect(batches.map((x) => x.items)).toEqual([[0], [1], [2, 3, 4]]);
    batches[1]?.finish();
    await tick();
    expect(batches.map((x) => x.items)).toEqual([[0], [1], [2, 3, 4], [5, 6, 7]]);
    batches[2]?.finish();
    batches[3]?.finish();
    await tick();
    batches[4]?.finish();
    await tick();
    expect(all.every((s) => s.done)).toBe(true);
  });

  it('close waits for every item in hand, then refuses new ones', async () => {
    const { batches, run } = controlledRun<number>();
    const b = createBatcher({ run, slots: 1 });
    const one = settled(b.submit(1));
    const two = settled(b.submit(2));
    const closed = settled(b.close());
    await expect(b.submit(3)).rejects.toThrow('closed');
    await tick();
    expect(closed.done).toBe(false);
    batches[0]?.finish();
    await tick();
    expect(closed.done).toBe(false);
    batches[1]?.finish();
    await tick();
    expect(one.done && two.done && closed.done).toBe(true);
  });
});
