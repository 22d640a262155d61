/**
 * Remembers loaded values for a short time. For facts other processes may
 * change (an app disabled from the CLI), the TTL bounds how long a process can
 * act on the old value; concurrent misses for one key share a single load.
 */
export function ttlCache<V>(load: (key: string) => Promise<V>, opts: { ttlMs: number; now: () => number; maxSize?: number }): (key: string) => Promise<V> {
  const maxSize = opts.maxSize ?? 10_000;
  const entries = new Map<string, { at: number; value: Promise<V> }>();
  return (key) => {
    const now = opts.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < opts.ttlMs) return hit.value;
    if (entries.size >= maxSize) entries.delete(entries.keys().next().value!);
    const value = load(key);
    entries.set(key, { at: now, value });
    // A failed load is not remembered.
    value.catch(() => entries.delete(key));
    return value;
  };
}
