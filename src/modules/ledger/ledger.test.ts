import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { accountId, entryId, postingsFor, sumOf, type LedgerEvent } from './ledger.ts';
import { ruleCoefficients } from './ledger.check.ts';
import { orderChangeEvent } from './ledger.orders.ts';

const M = 'mch_1';
/** Postings as `accountId amount` strings, in rule order: easy to read in a table. */
const show = (event: LedgerEvent) => postingsFor(event).map((p) => `${accountId(p.account, 'IDR')} ${p.amount}`);

describe('postingsFor', () => {
  const cases: { name: string; event: LedgerEvent; expected: string[] }[] = [
    {
      name: 'pay-in paid: channel owes paid, merchant gets paid − fee, platform earns fee',
      event: { kind: 'payin.paid', merchantId: M, paid: 10_000n, fee: 250n },
      expected: ['p:IDR:clearing -10000', `m:${M}:IDR:payin 9750`, 'p:IDR:fees 250'],
    },
    {
      name: 'pay-in refunded reverses paid exactly',
      event: { kind: 'payin.refunded', merchantId: M, paid: 10_000n, fee: 250n },
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -9750`, 'p:IDR:fees -250'],
    },
    {
      name: 'pay-in paid without fee: no zero posting',
      event: { kind: 'payin.paid', merchantId: M, paid: 500n, fee: 0n },
      expected: ['p:IDR:clearing -500', `m:${M}:IDR:payin 500`],
    },
    {
      name: 'pay-in whose fee eats it all',
      event: { kind: 'payin.paid', merchantId: M, paid: 100n, fee: 100n },
      expected: ['p:IDR:clearing -100', 'p:IDR:fees 100'],
    },
    {
      name: 'payout freeze: amount + fee from available to frozen',
      event: { kind: 'payout.freeze', merchantId: M, amount: 3_000n, fee: 100n },
      expected: [`m:${M}:IDR:payout -3100`, `m:${M}:IDR:frozen 3100`],
    },
    {
      name: 'payout paid: frozen leaves, the channel is owed the amount, the platform earns the fee',
      event: { kind: 'payout.paid', merchantId: M, amount: 3_000n, fee: 100n },
      expected: [`m:${M}:IDR:frozen -3100`, 'p:IDR:clearing 3000', 'p:IDR:fees 100'],
    },
    {
      name: 'payout released (FAILED): frozen back to available',
      event: { kind: 'payout.released', merchantId: M, amount: 3_000n, fee: 100n },
      expected: [`m:${M}:IDR:frozen -3100`, `m:${M}:IDR:payout 3100`],
    },
    {
      name: 'payout returned (REFUNDED after PAID): the bank sent it back, fee refunded',
      event: { kind: 'payout.returned', merchantId: M, amount: 3_000n, fee: 100n },
      expected: ['p:IDR:clearing -3000', 'p:IDR:fees -100', `m:${M}:IDR:payout 3100`],
    },
    {
      name: 'payout without fee',
      event: { kind: 'payout.paid', merchantId: M, amount: 3_000n, fee: 0n },
      expected: [`m:${M}:IDR:frozen -3000`, 'p:IDR:clearing 3000'],
    },
    {
      name: 'operator transfer payin → payout',
      event: { kind: 'op.transfer', merchantId: M, from: 'payin', to: 'payout', amount: 10_050n },
      expected: [`m:${M}:IDR:payin -10050`, `m:${M}:IDR:payout 10050`],
    },
    {
      name: 'operator transfer payout → payin',
      event: { kind: 'op.transfer', merchantId: M, from: 'payout', to: 'payin', amount: 1n },
      expected: [`m:${M}:IDR:payout -1`, `m:${M}:IDR:payin 1`],
    },
    {
      name: 'operator credit',
      event: { kind: 'op.adjust', merchantId: M, account: 'payout', amount: 2_500n },
      expected: [`m:${M}:IDR:payout 2500`, 'p:IDR:adjustments -2500'],
    },
    {
      name: 'operator debit',
      event: { kind: 'op.adjust', merchantId: M, account: 'payin', amount: -310n },
      expected: [`m:${M}:IDR:payin -310`, 'p:IDR:adjustments 310'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(show(c.event), c.expected);
      assert.equal(sumOf(postingsFor(c.event)), 0n);
    });
  }

  const refused: { name: string; event: LedgerEvent }[] = [
    { name: 'negative paid', event: { kind: 'payin.paid', merchantId: M, paid: -1n, fee: 0n } },
    { name: 'fee above paid', event: { kind: 'payin.paid', merchantId: M, paid: 10n, fee: 11n } },
    { name: 'negative payout fee', event: { kind: 'payout.freeze', merchantId: M, amount: 10n, fee: -1n } },
    { name: 'zero transfer', event: { kind: 'op.transfer', merchantId: M, from: 'payin', to: 'payout', amount: 0n } },
    { name: 'transfer to itself', event: { kind: 'op.transfer', merchantId: M, from: 'payin', to: 'payin', amount: 5n } },
    { name: 'zero adjustment', event: { kind: 'op.adjust', merchantId: M, account: 'payout', amount: 0n } },
  ];
  for (const c of refused) test(`refuses ${c.name}`, () => assert.throws(() => postingsFor(c.event), RangeError));

  test('every rule sums to zero for any amounts', () => {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(amount, amount, fc.constantFrom('payin.paid', 'payin.refunded', 'payout.freeze', 'payout.paid', 'payout.released', 'payout.returned'), (a, b, kind) => {
        const [small, big] = a < b ? [a, b] : [b, a];
        const event: LedgerEvent = kind.startsWith('payin') ? { kind: kind as 'payin.paid', merchantId: M, paid: big, fee: small } : { kind: kind as 'payout.paid', merchantId: M, amount: a, fee: b };
        return sumOf(postingsFor(event)) === 0n;
      }),
    );
  });
});

test('account and entry ids are derived, not random', () => {
  assert.equal(accountId({ owner: 'merchant', merchantId: 'mch_9', kind: 'frozen' }, 'MXN'), 'm:mch_9:MXN:frozen');
  assert.equal(accountId({ owner: 'platform', kind: 'fees' }, 'MXN'), 'p:MXN:fees');
  assert.equal(entryId('payin.paid', 'PI123'), 'payin.paid:PI123');
  assert.equal(entryId('op.transfer', 'op_1'), 'op.transfer:op_1');
});

describe('orderChangeEvent', () => {
  const order = (direction: string, status: string) => ({
    order_no: 'O1',
    direction,
    merchant_id: M,
    status,
    amount: 1_000n,
    paid_amount: direction === 'payin' ? 900n : null,
    fee: 30n,
  });
  const cases: [string, string, string, string | null][] = [
    ['payin', 'PENDING', 'PAID', 'payin.paid'],
    ['payin', 'CREATED', 'PAID', 'payin.paid'],
    ['payin', 'EXCEPTION', 'PAID', 'payin.paid'],
    ['payin', 'PAID', 'REFUNDED', 'payin.refunded'],
    ['payin', 'EXCEPTION', 'REFUNDED', null],
    ['payin', 'PENDING', 'FAILED', null],
    ['payin', 'PENDING', 'EXPIRED', null],
    ['payin', 'EXPIRED', 'EXCEPTION', null],
    ['payin', 'CREATED', 'PENDING', null],
    ['payin', 'PAID', 'PAID', null],
    ['payout', 'CREATED', 'PENDING', null],
    ['payout', 'PENDING', 'PAID', 'payout.paid'],
    ['payout', 'EXCEPTION', 'PAID', 'payout.paid'],
    ['payout', 'PENDING', 'FAILED', 'payout.released'],
    ['payout', 'EXCEPTION', 'FAILED', 'payout.released'],
    ['payout', 'CREATED', 'FAILED', 'payout.released'],
    ['payout', 'PENDING', 'EXCEPTION', null],
    ['payout', 'PAID', 'REFUNDED', 'payout.returned'],
    ['payout', 'FAILED', 'FAILED', null],
  ];
  for (const [direction, from, to, kind] of cases) {
    test(`${direction} ${from} → ${to}: ${kind ?? 'nothing'}`, () => {
      assert.equal(orderChangeEvent(order(direction, from), order(direction, to))?.kind ?? null, kind);
    });
  }

  test('a pay-in is credited what was paid, with the fee of the change', () => {
    assert.deepEqual(orderChangeEvent(order('payin', 'PENDING'), order('payin', 'PAID')), { kind: 'payin.paid', merchantId: M, paid: 900n, fee: 30n });
    const noPaidAmount = { ...order('payin', 'PAID'), paid_amount: null };
    assert.deepEqual(orderChangeEvent(order('payin', 'PENDING'), noPaidAmount), { kind: 'payin.paid', merchantId: M, paid: 1_000n, fee: 30n });
  });

  test('a payout moves amount and fee', () => {
    assert.deepEqual(orderChangeEvent(order('payout', 'PENDING'), order('payout', 'PAID')), { kind: 'payout.paid', merchantId: M, amount: 1_000n, fee: 30n });
  });
});

test('the check reads the same rules: coefficients reproduce postingsFor', () => {
  const rules = ruleCoefficients();
  const amount = fc.bigInt({ min: 0n, max: 10n ** 12n });
  fc.assert(
    fc.property(amount, amount, amount, fc.constantFrom(...new Set(rules.map((r) => r.kind))), (x, y, amt, kind) => {
      const [fee, paid] = x < y ? [x, y] : [y, x];
      const event: LedgerEvent = kind.startsWith('payin') ? { kind: kind as 'payin.paid', merchantId: M, paid, fee } : { kind: kind as 'payout.paid', merchantId: M, amount: amt, fee };
      const actual = new Map(postingsFor(event).map((p) => [p.account.kind as string, p.amount]));
      for (const r of rules.filter((r) => r.kind === kind)) {
        const expected = r.cp * paid + r.cf * fee + r.ca * amt;
        if ((actual.get(r.account) ?? 0n) !== expected) return false;
        actual.delete(r.account);
      }
      return actual.size === 0;
    }),
  );
});
