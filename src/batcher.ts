/**
 * @module Group commit: concurrent callers' items are run together, one batch
 * at a time per slot, so that they share one transaction and one WAL flush.
 * There is no timer: a batch starts as soon as a slot is free, and whatever
 * arrives while the slots are busy waits for the next batch, so batches grow
 * with the load and an idle server answers at once.
 *
 * Each caller is answered only after its batch has run to the end (for the
 * database: committed). When a batch of several fails as a whole, nobody is
 * acknowledged: each of its items is run again alone, so that one item the
 * database refuses cannot fail the others forever; each caller then gets its
 * own outcome.
 */

/** One item's outcome inside a batch that ran to the end. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface BatcherOptions<I, O> {
  /** Runs the items together; resolves (after committing) with one outcome per item, in order, or throws for all. */
  run(items: readonly I[]): Promise<ItemOutcome<O>[]>;
  /** most items in one batch */
  maxBatch?: number;
  /** batches running at once (a second one prepares while the first commits) */
  slots?: number;
}

export interface Batcher<I, O> {
  /** Resolves with the item's outcome once its batch has run; rejects with its error. */
  submit(item: I): Promise<O>;
  /** Waits for every submitted item to be answered; later submits are refused. */
  close(): Promise<void>;
}

interface Waiter<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const maxBatch = Math.max(1, options.maxBatch ?? 64);
  const slots = Math.max(1, options.slots ?? 2);
  const queue: Waiter<I, O>[] = [];
  let running = 0;
  let closed = false;
  let idle: (() => void) | null = null;

  const settle = (waiters: readonly Waiter<I, O>[], outcomes: readonly ItemOutcome<O>[]) => {
    waiters.forEach((w, i) => {
      const o = outcomes[i];
      if (!o) w.reject(new Error('the batch returned no outcome for this item'));
      else if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
  };

  const runBatch = async (batch: Waiter<I, O>[]): Promise<void> => {
    try {
      settle(batch, await options.run(batch.map((w) => w.item)));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // Nothing of the batch was committed: each item again, alone, answered by its own outcome.
      await Promise.all(batch.map((w) => runBatch([w])));
    }
  };

  const pump = () => {
    while (running < slots && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      running++;
      void runBatch(batch).finally(() => {
        running--;
        pump();
        if (running === 0 && queue.length === 0) idle?.();
      });
    }
  };

  return {
    submit(item) {
      if (closed) return Promise.reject(new Error('the batcher is closed'));
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    close() {
      closed = true;
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}
