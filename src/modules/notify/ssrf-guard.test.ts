import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { addressVerdict, checkUrlTarget, guardedLookup, parseAllowList, type AllowList } from './ssrf-guard.ts';

// Addresses other than loopback are only judged here, never dialled.
const NONE = parseAllowList([]);

describe('ssrf-guard: addressVerdict and checkUrlTarget', () => {
  const refusedUrls: [url: string, reason: string][] = [
    ['http://127.0.0.1/', 'address 127.0.0.1 is loopback'],
    ['http://[::1]/', 'address ::1 is loopback'],
    ['http://[::ffff:127.0.0.1]/', 'address ::ffff:7f00:1 (127.0.0.1) is loopback'],
    ['http://[::ffff:7f00:1]/', 'address ::ffff:7f00:1 (127.0.0.1) is loopback'],
    ['http://10.0.0.1/', 'address 10.0.0.1 is private'],
    ['http://172.16.5.4/', 'address 172.16.5.4 is private'],
    ['http://192.168.1.1:8080/', 'address 192.168.1.1 is private'],
    ['http://169.254.169.254/latest/meta-data/', 'address 169.254.169.254 is link-local, a cloud metadata address'],
    ['http://100.64.0.1/', 'address 100.64.0.1 is carrier-grade NAT'],
    ['http://[fd00::1]/', 'address fd00::1 is unique-local'],
    ['http://[fe80::1]/', 'address fe80::1 is link-local'],
    ['http://224.0.0.1/', 'address 224.0.0.1 is multicast'],
    ['http://0.0.0.0/', 'address 0.0.0.0 is unspecified'],
    ['http://[::]/', 'address :: is unspecified'],
    ['http://255.255.255.255/', 'address 255.255.255.255 is broadcast'],
    ['http://2130706433/', 'address 127.0.0.1 is loopback'],
    ['http://0x7f.1/', 'address 127.0.0.1 is loopback'],
    ['http://0177.0.0.1/', 'address 127.0.0.1 is loopback'],
    ['http://127.1/', 'address 127.0.0.1 is loopback'],
    ['http://[::ffff:a00:1]/', 'address ::ffff:a00:1 (10.0.0.1) is private'],
    ['http://[::7f00:1]/', 'address ::7f00:1 is IPv4-compatible (embeds an IPv4 address)'],
    ['http://[64:ff9b::7f00:1]/', 'address 64:ff9b::7f00:1 is NAT64 (embeds an IPv4 address)'],
    ['http://[2002:7f00:1::]/', 'address 2002:7f00:1:: is 6to4 (embeds an IPv4 address)'],
    ['http://[2001::1]/', 'address 2001::1 is Teredo (embeds an IPv4 address)'],
    ['http://[::ffff:0:7f00:1]/', 'address ::ffff:0:7f00:1 is IPv4-translated (embeds an IPv4 address)'],
    ['http://198.18.0.1/', 'address 198.18.0.1 is reserved'],
    ['https://[fec0::1]/', 'address fec0::1 is site-local'],
    ['ftp://8.8.8.8/', 'scheme ftp: is not allowed'],
    ['file:///etc/passwd', 'scheme file: is not allowed'],
  ];
  for (const [url, reason] of refusedUrls) {
    it(`refuses ${url}`, () => {
      assert.deepEqual(checkUrlTarget(new URL(url), NONE), { ok: false, reason });
    });
  }

  const okUrls = [
    'http://8.8.8.8/',
    'https://[2606:4700::1111]/hook',
    'https://93.184.216.34:8443/',
    'https://merchant.example/notify', // a hostname: judged at lookup time
    'http://localhost/', // likewise
  ];
  for (const url of okUrls) {
    it(`lets ${url} through`, () => {
      assert.deepEqual(checkUrlTarget(new URL(url), NONE), { ok: true });
    });
  }

  const addresses: [ip: string, ok: boolean][] = [
    ['127.0.0.1', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['10.0.0.1', false],
    ['169.254.169.254', false],
    ['fe80::1%eth0', false],
    ['not-an-ip', false],
    ['8.8.8.8', true],
    ['2606:4700::1111', true],
    ['93.184.216.34', true],
  ];
  for (const [ip, ok] of addresses) {
    it(`judges the address ${ip} ${ok ? 'ok' : 'refused'}`, () => {
      assert.equal(addressVerdict(ip, NONE).ok, ok);
    });
  }

  it('names the range in the reason', () => {
    assert.deepEqual(addressVerdict('10.0.0.1', NONE), { ok: false, reason: 'address 10.0.0.1 is private' });
  });
});

describe('ssrf-guard: allow-list', () => {
  it('lets an allow-listed address or CIDR through, and only that', () => {
    const allow = parseAllowList(['127.0.0.1/32', '10.1.0.0/16', 'fd00::/8']);
    assert.equal(checkUrlTarget(new URL('http://127.0.0.1:9/'), allow).ok, true);
    assert.equal(checkUrlTarget(new URL('http://[::ffff:127.0.0.1]/'), allow).ok, true);
    assert.equal(checkUrlTarget(new URL('http://2130706433/'), allow).ok, true);
    assert.equal(checkUrlTarget(new URL('http://127.0.0.2/'), allow).ok, false);
    assert.equal(checkUrlTarget(new URL('http://[::1]/'), allow).ok, false);
    assert.equal(addressVerdict('10.1.200.3', allow).ok, true);
    assert.equal(addressVerdict('10.2.0.1', allow).ok, false);
    assert.equal(addressVerdict('fd12::1', allow).ok, true);
    assert.equal(addressVerdict('fe80::1', allow).ok, false);
  });

  it('accepts bare addresses, bracketed IPv6 and mapped CIDRs', () => {
    const allow = parseAllowList([' 127.0.0.1 ', '[::1]', '::ffff:192.168.0.0/112', '']);
    assert.equal(addressVerdict('127.0.0.1', allow).ok, true);
    assert.equal(addressVerdict('::1', allow).ok, true);
    assert.equal(addressVerdict('192.168.3.4', allow).ok, true);
    assert.equal(addressVerdict('192.169.0.1', allow).ok, true); // public anyway
    assert.equal(addressVerdict('10.0.0.1', allow).ok, false);
  });

  it('matches hostnames exactly and case-insensitively, addresses of other hosts still judged', () => {
    const allow = parseAllowList(['LocalHost', 'hooks.internal.']);
    assert.deepEqual([...allow.hosts].sort(), ['hooks.internal', 'localhost']);
    assert.equal(checkUrlTarget(new URL('http://localhost:1/'), allow).ok, true);
    assert.equal(checkUrlTarget(new URL('http://127.0.0.1:1/'), allow).ok, false);
  });

  it('throws on a malformed entry, naming it', () => {
    assert.throws(() => parseAllowList(['10.0.0.0/33']), /"10\.0\.0\.0\/33"/);
    assert.throws(() => parseAllowList(['http://x/']), /"http:\/\/x\/"/);
    assert.throws(() => parseAllowList(['*.example.com']), /not an address, CIDR or hostname/);
  });
});

type Answer = { err?: NodeJS.ErrnoException; addresses?: LookupAddress[] };

function lookupOnce(allow: AllowList, hostname: string, all: boolean, answer?: Answer): Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
  const fake = answer
    ? (_h: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(answer.err ?? null, answer.addresses ?? [])
    : undefined;
  const lookup = guardedLookup(allow, fake);
  return new Promise((resolve) => lookup(hostname, { all }, (err, address, family) => resolve({ err, address, family })));
}

describe('ssrf-guard: guardedLookup', () => {
  it('refuses localhost without an allow-list, with code ESSRF', async () => {
    for (const all of [true, false]) {
      const { err } = await lookupOnce(NONE, 'localhost', all);
      assert.equal(err?.code, 'ESSRF');
      assert.match(err?.message ?? '', /^address 127\.0\.0\.1 is loopback \(resolved from localhost\)$/);
    }
  });

  it('allows localhost when 127.0.0.1 is allow-listed', async () => {
    const { err, address } = await lookupOnce(parseAllowList(['127.0.0.1']), 'localhost', true);
    assert.equal(err, null);
    assert.deepEqual(address, [{ address: '127.0.0.1', family: 4 }]);
  });

  it('allows localhost when it is allow-listed by name, answering in either callback shape', async () => {
    const allow = parseAllowList(['localhost']);
    const all = await lookupOnce(allow, 'localhost', true);
    assert.equal(all.err, null);
    assert.ok(Array.isArray(all.address));
    const one = await lookupOnce(allow, 'localhost', false);
    assert.equal(one.err, null);
    assert.equal(one.address, '127.0.0.1');
    assert.equal(one.family, 4);
    // The name matches in any case and with a trailing dot (fake resolver: nothing leaves the machine).
    const answer = { addresses: [{ address: '10.0.0.7', family: 4 }] };
    assert.equal((await lookupOnce(allow, 'LocalHost.', true, answer)).err, null);
    assert.equal((await lookupOnce(allow, 'localhost.example', true, answer)).err?.code, 'ESSRF');
  });

  it('refuses a name if any one of its addresses is refused', async () => {
    const addresses = [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    const { err } = await lookupOnce(NONE, 'rebind.example', true, { addresses });
    assert.equal(err?.code, 'ESSRF');
    assert.equal(err?.message, 'address 10.0.0.1 is private (resolved from rebind.example)');
  });

  it('refuses a mapped loopback answer and passes public answers through', async () => {
    const mapped = await lookupOnce(NONE, 'v6.example', true, { addresses: [{ address: '::ffff:7f00:1', family: 6 }] });
    assert.equal(mapped.err?.code, 'ESSRF');
    const fine = [
      { address: '2606:4700::1111', family: 6 },
      { address: '8.8.8.8', family: 4 },
    ];
    const ok = await lookupOnce(NONE, 'public.example', false, { addresses: fine });
    assert.equal(ok.err, null);
    assert.equal(ok.address, '2606:4700::1111');
    assert.equal(ok.family, 6);
  });

  it('passes DNS errors through and treats an empty answer as not found', async () => {
    const notFound: NodeJS.ErrnoException = Object.assign(new Error('getaddrinfo ENOTFOUND x.example'), { code: 'ENOTFOUND' });
    assert.equal((await lookupOnce(NONE, 'x.example', true, { err: notFound })).err, notFound);
    assert.equal((await lookupOnce(NONE, 'y.example', true, { addresses: [] })).err?.code, 'ENOTFOUND');
  });
});
