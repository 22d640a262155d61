interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Hands items to `write` in batches: what arrives while a batch is being
 * written goes into the next one, so the batch grows with the load and a lone
 * item waits for nothing. Each item's promise settles with its batch. When a
 * batch of several fails, its items are written again one by one, so a bad
 * item fails alone.
 */
export function createBatcher<T>(write: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let queue: Waiting<T>[] = [];
  let writing = false;

  const settle = async (batch: Waiting<T>[]): Promise<void> => {
    try {
      await write(batch.map((w) => w.item));
      for (const w of batch) w.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const w of batch) await settle([w]);
    }
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      await settle(batch);
    }
    writing = false;
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (writing) return;
      writing = true;
      // Starts on the next turn, so items produced in this one share the batch.
      setImmediate(() => void drain());
    });
}
