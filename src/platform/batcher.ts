interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Hands items to `write` in batches: what arrives while a batch is being
 * written goes into the next one, so the batch grows with the load and a lone
 * item waits for nothing. Each item's promise settles with its batch, with the
 * result `write` gave for it (in the items' order; none when it returns
 * nothing). When a batch of several fails, its items are written again one by
 * one, so a bad item fails alone.
 */
export function createBatcher<T, R = void>(write: (items: T[]) => Promise<R[] | void>, opts: { maxBatch?: number } = {}): (item: T) => Promise<R> {
  const maxBatch = opts.maxBatch ?? Infinity;
  let queue: Waiting<T, R>[] = [];
  let writing = false;

  const settle = async (batch: Waiting<T, R>[]): Promise<void> => {
    let results: R[] | void;
    try {
      results = await write(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const w of batch) await settle([w]);
      return;
    }
    batch.forEach((w, i) => w.resolve(results ? results[i]! : (undefined as R)));
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      await settle(batch);
    }
    writing = false;
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (writing) return;
      writing = true;
      // Starts on the next turn, so items produced in this one share the batch.
      setImmediate(() => void drain());
    });
}
