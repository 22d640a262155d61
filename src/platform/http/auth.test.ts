import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { checkAppAccess, type AuthApp, type Scope } from './auth.ts';

const app = (ipAllow: string[] | null, scopes: Scope[], merchantDisabled = false): AuthApp => ({
  appId: 'a',
  merchantId: 'm',
  active: true,
  merchantDisabled,
  scopes,
  ipAllow,
  secrets: ['s'],
  secretIds: ['sec_1'],
  tokenEpoch: 0,
});

const cases: Array<[string, string[] | null, Scope[], string, Scope | undefined, 'ok' | 403]> = [
  ['no allow-list, any address', null, ['payin'], '203.0.113.9', 'payin', 'ok'],
  ['address in CIDR', ['10.1.2.0/24'], ['payin'], '10.1.2.77', 'payin', 'ok'],
  ['address outside CIDR', ['10.1.2.0/24'], ['payin'], '10.1.3.1', 'payin', 403],
  ['single address match', ['198.51.100.4'], ['payin'], '198.51.100.4', undefined, 'ok'],
  ['single address mismatch', ['198.51.100.4'], ['payin'], '198.51.100.5', undefined, 403],
  ['IPv4-mapped IPv6 client matches IPv4 CIDR', ['127.0.0.0/8'], ['payin'], '::ffff:127.0.0.1', 'payin', 'ok'],
  ['IPv6 CIDR', ['2001:db8::/32'], ['payin'], '2001:db8::1', 'payin', 'ok'],
  ['IPv6 outside', ['2001:db8::/32'], ['payin'], '2001:db9::1', 'payin', 403],
  ['IPv4 client against IPv6-only list', ['2001:db8::/32'], ['payin'], '10.0.0.1', 'payin', 403],
  ['unparseable client address', ['10.0.0.0/8'], ['payin'], 'not-an-ip', 'payin', 403],
  ['scope missing', null, ['payin'], '10.0.0.1', 'payout', 403],
  ['scope present', null, ['payin', 'payout'], '10.0.0.1', 'payout', 'ok'],
  ['no scope needed', null, ['payout'], '10.0.0.1', undefined, 'ok'],
];

for (const [name, allow, scopes, ip, need, expected] of cases) {
  test(`checkAppAccess: ${name}`, () => {
    const run = () => checkAppAccess(app(allow, scopes), ip, need);
    if (expected === 'ok') run();
    else assert.throws(run, (err: unknown) => err instanceof AppError && err.status === 403);
  });
}

test('checkAppAccess: a disabled merchant is refused with 403 whatever its address and scope', () => {
  assert.throws(
    () => checkAppAccess(app(null, ['payin', 'payout'], true), '10.0.0.1', undefined),
    (err: unknown) => err instanceof AppError && err.status === 403 && err.detail === 'merchant is disabled',
  );
});
