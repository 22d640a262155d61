/**
 * Counts failed authentications per client address in fixed windows. Once an
 * address has failed `limit` times in a window, its API calls are refused (429)
 * until that window ends: guessing credentials, or a client stuck retrying
 * bad ones, costs the gateway one map lookup per call instead of a signature
 * check. In memory, per process; successful calls are never counted.
 */
export interface AuthThrottle {
  /** Milliseconds until this address may try again; 0 when it may now. */
  blockedFor(address: string): number;
  /** Records a failed authentication from this address. */
  failed(address: string): void;
}

interface Window {
  start: number;
  failures: number;
}

export function createAuthThrottle(opts: { limit: number; windowMs: number; now: () => number; maxAddresses?: number }): AuthThrottle {
  const maxAddresses = opts.maxAddresses ?? 100_000;
  const windows = new Map<string, Window>();

  const current = (address: string, now: number): Window | undefined => {
    const w = windows.get(address);
    if (w && now - w.start >= opts.windowMs) {
      windows.delete(address);
      return undefined;
    }
    return w;
  };

  /** Keeps memory bounded under many addresses: expired windows go first, then the oldest. */
  const makeRoom = (now: number): void => {
    for (const [address, w] of windows) if (now - w.start >= opts.windowMs) windows.delete(address);
    while (windows.size >= maxAddresses) windows.delete(windows.keys().next().value!);
  };

  return {
    blockedFor(address) {
      if (opts.limit <= 0 || windows.size === 0) return 0;
      const now = opts.now();
      const w = current(address, now);
      return w && w.failures >= opts.limit ? w.start + opts.windowMs - now : 0;
    },
    failed(address) {
      if (opts.limit <= 0) return;
      const now = opts.now();
      const w = current(address, now);
      if (w) {
        w.failures++;
        return;
      }
      if (windows.size >= maxAddresses) makeRoom(now);
      windows.set(address, { start: now, failures: 1 });
    },
  };
}
