/**
 * Keeps notification requests away from the gateway's own network
 * (merchant-api.md section 7): no loopback, private, link-local, metadata or
 * other non-unicast address is dialled unless the operator allow-lists it.
 *
 * Two checks, because undici only asks `lookup` about hostnames:
 * - `checkUrlTarget` judges literal-IP URLs before anything is dialled;
 * - `guardedLookup` judges every address a hostname resolves to, so the
 *   address checked is the address dialled (no second resolution to rebind).
 */
import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export type Verdict = { ok: true } | { ok: false; reason: string };

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface AllowList {
  /** Lower-case hostnames without a trailing dot; such hosts are not judged by address. */
  readonly hosts: ReadonlySet<string>;
  /** Addresses and CIDRs; a single address is a full-length prefix. */
  readonly ranges: readonly (readonly [Address, number])[];
}

/** The error `guardedLookup` fails with; undici hands it back from `request()`. */
export class SsrfRefusedError extends Error {
  readonly code = 'ESSRF';
  readonly hostname: string;
  constructor(message: string, hostname: string) {
    super(message);
    this.name = 'SsrfRefusedError';
    this.hostname = hostname;
  }
}

const OK: Verdict = Object.freeze({ ok: true });

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Parses the operator's allow-list: IPv4/IPv6 addresses, CIDRs (`10.0.0.0/8`,
 * `fd00::/8`, `[::1]`) and exact hostnames (`localhost`, matched
 * case-insensitively, no wildcards). A malformed entry is a configuration
 * error and throws, naming the entry, so startup fails fast.
 */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const ranges: (readonly [Address, number])[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const bare = entry.startsWith('[') && entry.includes(']') ? entry.replace(/^\[([^\]]*)\]/, '$1') : entry;
    if (bare.includes('/')) {
      if (!ipaddr.isValidCIDR(bare)) throw new Error(`invalid allow-list entry "${raw}": not a CIDR`);
      ranges.push(unwrapMappedCidr(ipaddr.parseCIDR(bare)));
    } else if (ipaddr.isValid(bare)) {
      const addr = ipaddr.process(bare);
      ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else {
      const host = normaliseHostname(bare);
      if (!HOSTNAME.test(host)) throw new Error(`invalid allow-list entry "${raw}": not an address, CIDR or hostname`);
      hosts.add(host);
    }
  }
  return Object.freeze({ hosts, ranges: Object.freeze(ranges) });
}

/** `::ffff:10.0.0.0/104` means `10.0.0.0/8`: addresses are judged after unwrapping. */
function unwrapMappedCidr([addr, bits]: [Address, number]): readonly [Address, number] {
  if (addr instanceof ipaddr.IPv6 && bits >= 96 && addr.isIPv4MappedAddress()) return [addr.toIPv4Address(), bits - 96];
  return [addr, bits];
}

function normaliseHostname(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

export function isHostAllowedByName(hostname: string, allow: AllowList): boolean {
  return allow.hosts.has(normaliseHostname(hostname));
}

function isAllowedAddress(addr: Address, allow: AllowList): boolean {
  return allow.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

const DESCRIPTIONS: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  rfc6052: 'NAT64 (embeds an IPv4 address)',
  rfc6145: 'IPv4-translated (embeds an IPv4 address)',
  '6to4': '6to4 (embeds an IPv4 address)',
  teredo: 'Teredo (embeds an IPv4 address)',
  ipv4Compatible: 'IPv4-compatible (embeds an IPv4 address)',
};

/** Cloud instance-metadata endpoints, named in the reason because that is the usual target. */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);

/**
 * ipaddr.js's range name, except that IPv4-compatible IPv6 (`::a.b.c.d`, the
 * deprecated ::/96 form, which ipaddr calls unicast) is refused: some stacks
 * still route it to the embedded IPv4 address.
 */
function rangeOf(addr: Address): string {
  const range = addr.range();
  if (range === 'unicast' && addr instanceof ipaddr.IPv6 && addr.parts.slice(0, 6).every((p) => p === 0)) {
    return 'ipv4Compatible';
  }
  return range;
}

/**
 * Judges one address. Only globally routable unicast is ok, unless the
 * address matches the allow-list. IPv4-mapped IPv6 (`::ffff:127.0.0.1`,
 * `::ffff:7f00:1`) is unwrapped first and judged as the IPv4 address.
 */
export function addressVerdict(ip: string, allow: AllowList): Verdict {
  if (!ipaddr.isValid(ip)) return { ok: false, reason: `address ${ip} is not a valid IP address` };
  const addr = ipaddr.process(ip);
  if (isAllowedAddress(addr, allow)) return OK;
  const range = rangeOf(addr);
  if (range === 'unicast') return OK;
  const canonical = addr.toString();
  const shown = canonical === ip.toLowerCase() ? ip : `${ip} (${canonical})`;
  const what = DESCRIPTIONS[range] ?? range;
  const metadata = METADATA.has(canonical) ? ', a cloud metadata address' : '';
  return { ok: false, reason: `address ${shown} is ${what}${metadata}` };
}

/**
 * Judges a URL before dialling: its scheme, and its host when that is a
 * literal address (the WHATWG parser has already turned `2130706433`,
 * `0x7f.1` and `0177.0.0.1` into `127.0.0.1`). Hostnames pass here; their
 * addresses are judged by `guardedLookup` when undici resolves them.
 */
export function checkUrlTarget(url: URL, allow: AllowList): Verdict {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `scheme ${url.protocol} is not allowed` };
  }
  const host = url.hostname;
  if (host === '') return { ok: false, reason: 'the URL has no host' };
  if (host.startsWith('[') && host.endsWith(']')) return addressVerdict(host.slice(1, -1), allow);
  if (ipaddr.IPv4.isValid(host)) return addressVerdict(host, allow);
  return OK;
}

type AllLookup = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemLookup: AllLookup = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for undici's `connect` option (Node's `net.connect` calls it as
 * `lookup(hostname, options, callback)`, with `all: true` when it races
 * address families). Resolves all addresses and refuses the connection with
 * an `ESSRF` error if any one is refused: a name mixing public and private
 * answers is not dialled at all. A hostname allow-listed by name is not judged.
 * `resolve` is replaceable for tests; it defaults to `dns.lookup`.
 */
export function guardedLookup(allow: AllowList, resolve: AllLookup = systemLookup): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, '');
      }
      if (!isHostAllowedByName(hostname, allow)) {
        for (const { address } of addresses) {
          const verdict = addressVerdict(address, allow);
          if (!verdict.ok) return callback(new SsrfRefusedError(`${verdict.reason} (resolved from ${hostname})`, hostname), '');
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}
