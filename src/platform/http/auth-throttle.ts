import ipaddr from 'ipaddr.js';

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

/**
 * The key an address is counted under: an IPv4 address as it is, an IPv6
 * address by its /64, which one client usually holds whole (counting each of
 * its addresses apart would let it try 2^64 times as often).
 */
export function throttleKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${(ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
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

  /**
   * Keeps memory bounded under many addresses. A window is (re)inserted when it
   * starts, so the map is in start order: the expired ones are at its front, and
   * so is the oldest live one. Only those are visited.
   */
  const makeRoom = (now: number): void => {
    for (const [address, w] of windows) {
      if (windows.size < maxAddresses && now - w.start < opts.windowMs) break;
      windows.delete(address);
    }
  };

  return {
    blockedFor(address) {
      if (opts.limit <= 0 || windows.size === 0) return 0;
      const now = opts.now();
      const w = current(throttleKey(address), now);
      return w && w.failures >= opts.limit ? w.start + opts.windowMs - now : 0;
    },
    failed(address) {
      if (opts.limit <= 0) return;
      const now = opts.now();
      const key = throttleKey(address);
      const w = current(key, now);
      if (w) {
        w.failures++;
        return;
      }
      if (windows.size >= maxAddresses) makeRoom(now);
      windows.set(key, { start: now, failures: 1 });
    },
  };
}
