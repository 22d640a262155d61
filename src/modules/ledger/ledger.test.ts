import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { accountId, entryId, isNonNegative, postingsFor, debtRepaid, refundCover, refundSplit, sumOf, type LedgerEvent } from './ledger.ts';
import { accountGroups, EXPECTED_ORDER_ENTRIES, ruleCoefficients } from './ledger.check.ts';
import { decideTransition, DIRECTIONS, ORDER_STATUSES, type Direction, type OrderStatus } from '../orders/order.ts';
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
    { name: 'a refund covering more than paid − fee', event: { kind: 'payin.refunded', merchantId: M, paid: 10_000n, fee: 250n, covered: 9_751n } },
    { name: 'a refund covering a negative amount', event: { kind: 'payin.refunded', merchantId: M, paid: 10_000n, fee: 250n, covered: -1n } },
    { name: 'a split on a payment', event: { kind: 'payin.paid', merchantId: M, paid: 10_000n, fee: 250n, covered: 0n } },
    { name: 'negative paid', event: { kind: 'payin.paid', merchantId: M, paid: -1n, fee: 0n } },
    { name: 'fee above paid', event: { kind: 'payin.paid', merchantId: M, paid: 10n, fee: 11n } },
    { name: 'negative payout fee', event: { kind: 'payout.freeze', merchantId: M, amount: 10n, fee: -1n } },
    { name: 'zero transfer', event: { kind: 'op.transfer', merchantId: M, from: 'payin', to: 'payout', amount: 0n } },
    { name: 'transfer to itself', event: { kind: 'op.transfer', merchantId: M, from: 'payin', to: 'payin', amount: 5n } },
    { name: 'zero adjustment', event: { kind: 'op.adjust', merchantId: M, account: 'payout', amount: 0n } },
  ];
  for (const c of refused) test(`refuses ${c.name}`, () => assert.throws(() => postingsFor(c.event), RangeError));

  test('every refund split sums to zero and debits payin + receivable by paid − fee', () => {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(amount, amount, amount, (a, b, c) => {
        const [fee, covered, paid] = [a, b, c].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)) as [bigint, bigint, bigint];
        const net = paid - fee;
        const cover = covered > net ? net : covered;
        const postings = postingsFor({ kind: 'payin.refunded', merchantId: M, paid, fee, covered: cover });
        const merchantDebit = postings.filter((p) => p.account.owner === 'merchant').reduce((sum, p) => sum + p.amount, 0n);
        return sumOf(postings) === 0n && merchantDebit === -net && postings.every((p) => p.amount !== 0n);
      }),
    );
  });

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

describe('a refund the payin balance cannot cover: payin as far as it goes, the rest on receivable', () => {
  // paid 10000, fee 250: the merchant was credited 9750.
  const cases: { name: string; balance: bigint; paid: bigint; fee: bigint; covered: bigint; expected: string[] }[] = [
    {
      name: 'covered fully (balance above paid − fee)',
      balance: 20_000n,
      paid: 10_000n,
      fee: 250n,
      covered: 9_750n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -9750`, 'p:IDR:fees -250'],
    },
    {
      name: 'covered exactly (balance equals paid − fee)',
      balance: 9_750n,
      paid: 10_000n,
      fee: 250n,
      covered: 9_750n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -9750`, 'p:IDR:fees -250'],
    },
    {
      name: 'covered partially',
      balance: 1_000n,
      paid: 10_000n,
      fee: 250n,
      covered: 1_000n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -1000`, `m:${M}:IDR:receivable -8750`, 'p:IDR:fees -250'],
    },
    {
      name: 'not covered at all (balance 0)',
      balance: 0n,
      paid: 10_000n,
      fee: 250n,
      covered: 0n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:receivable -9750`, 'p:IDR:fees -250'],
    },
    {
      name: 'fee 0, covered partially',
      balance: 4_000n,
      paid: 5_000n,
      fee: 0n,
      covered: 4_000n,
      expected: ['p:IDR:clearing 5000', `m:${M}:IDR:payin -4000`, `m:${M}:IDR:receivable -1000`],
    },
    {
      name: 'fee 0, not covered at all',
      balance: 0n,
      paid: 5_000n,
      fee: 0n,
      covered: 0n,
      expected: ['p:IDR:clearing 5000', `m:${M}:IDR:receivable -5000`],
    },
    {
      name: 'fee 0, covered fully',
      balance: 5_000n,
      paid: 5_000n,
      fee: 0n,
      covered: 5_000n,
      expected: ['p:IDR:clearing 5000', `m:${M}:IDR:payin -5000`],
    },
    {
      name: 'the fee ate it all: nothing to cover, nothing owed',
      balance: 0n,
      paid: 100n,
      fee: 100n,
      covered: 0n,
      expected: ['p:IDR:clearing 100', 'p:IDR:fees -100'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(refundCover(c.balance, c.paid, c.fee), c.covered);
      const event: LedgerEvent = { kind: 'payin.refunded', merchantId: M, paid: c.paid, fee: c.fee, covered: c.covered };
      assert.deepEqual(show(event), c.expected);
      assert.equal(sumOf(postingsFor(event)), 0n);
    });
  }

  test('a negative payin balance (never expected) covers nothing', () => assert.equal(refundCover(-5n, 100n, 0n), 0n));

  test('receivable is a merchant account that may go negative; the others are guarded', () => {
    assert.equal(isNonNegative({ owner: 'merchant', merchantId: M, kind: 'receivable' }), false);
    for (const kind of ['payin', 'payout', 'frozen'] as const) assert.equal(isNonNegative({ owner: 'merchant', merchantId: M, kind }), true);
    assert.equal(isNonNegative({ owner: 'platform', kind: 'clearing' }), false);
  });

  test('the check compares a refund by its payin + payout + receivable sum, which every split gives', () => {
    const label = 'payin+payout+receivable';
    assert.deepEqual(accountGroups(), [
      { kind: 'payin.paid', account: 'payin', label: 'payin+receivable' },
      { kind: 'payin.paid', account: 'receivable', label: 'payin+receivable' },
      { kind: 'payin.refunded', account: 'payin', label },
      { kind: 'payin.refunded', account: 'payout', label },
      { kind: 'payin.refunded', account: 'receivable', label },
    ]);
    const rule = ruleCoefficients().find((r) => r.kind === 'payin.refunded' && r.account === 'payin')!;
    for (const c of splits) {
      const postings = postingsFor({ kind: 'payin.refunded', merchantId: M, paid: c.paid, fee: c.fee, ...refundSplit(c.payin, c.payout, c.paid, c.fee) });
      const grouped = postings.filter((p) => p.account.kind !== 'clearing' && p.account.kind !== 'fees').reduce((sum, p) => sum + p.amount, 0n);
      assert.equal(grouped, rule.cp * c.paid + rule.cf * c.fee, c.name);
    }
  });

  // A payment repays what the merchant owes before crediting payin.
  const repayments: { name: string; receivable: bigint; paid: bigint; fee: bigint; expected: string[] }[] = [
    { name: 'nothing owed', receivable: 0n, paid: 10_000n, fee: 250n, expected: ['p:IDR:clearing -10000', `m:${M}:IDR:payin 9750`, 'p:IDR:fees 250'] },
    {
      name: 'a debt smaller than the credit',
      receivable: -3_000n,
      paid: 10_000n,
      fee: 250n,
      expected: ['p:IDR:clearing -10000', `m:${M}:IDR:receivable 3000`, `m:${M}:IDR:payin 6750`, 'p:IDR:fees 250'],
    },
    { name: 'a debt larger than the credit', receivable: -50_000n, paid: 10_000n, fee: 250n, expected: ['p:IDR:clearing -10000', `m:${M}:IDR:receivable 9750`, 'p:IDR:fees 250'] },
    { name: 'a debt exactly the credit', receivable: -9_750n, paid: 10_000n, fee: 250n, expected: ['p:IDR:clearing -10000', `m:${M}:IDR:receivable 9750`, 'p:IDR:fees 250'] },
    { name: 'a positive receivable (never expected) repays nothing', receivable: 5n, paid: 100n, fee: 0n, expected: ['p:IDR:clearing -100', `m:${M}:IDR:payin 100`] },
  ];
  for (const c of repayments) {
    test(`payment repays a debt: ${c.name}`, () => {
      const event: LedgerEvent = { kind: 'payin.paid', merchantId: M, paid: c.paid, fee: c.fee, repaid: debtRepaid(c.receivable, c.paid, c.fee) };
      assert.deepEqual(show(event), c.expected);
      assert.equal(sumOf(postingsFor(event)), 0n);
    });
  }
  test('repaid is for payments only, and never more than the credit', () => {
    assert.throws(() => postingsFor({ kind: 'payin.refunded', merchantId: M, paid: 100n, fee: 0n, repaid: 1n }), RangeError);
    assert.throws(() => postingsFor({ kind: 'payin.paid', merchantId: M, paid: 100n, fee: 10n, repaid: 91n }), RangeError);
  });

  // Where a refund's paid − fee comes from: payin first, then payout, then owed.
  const splits: { name: string; payin: bigint; payout: bigint; paid: bigint; fee: bigint; expected: string[] }[] = [
    { name: 'payin covers it all; payout untouched', payin: 20_000n, payout: 5_000n, paid: 10_000n, fee: 250n, expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -9750`, 'p:IDR:fees -250'] },
    {
      name: 'payin in part, payout the rest',
      payin: 1_000n,
      payout: 50_000n,
      paid: 10_000n,
      fee: 250n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -1000`, `m:${M}:IDR:payout -8750`, 'p:IDR:fees -250'],
    },
    { name: 'all moved to payout (a transfer before the refund)', payin: 0n, payout: 10_000n, paid: 10_000n, fee: 0n, expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payout -10000`] },
    {
      name: 'payin and payout in part, the rest owed',
      payin: 1_000n,
      payout: 2_000n,
      paid: 10_000n,
      fee: 250n,
      expected: ['p:IDR:clearing 10000', `m:${M}:IDR:payin -1000`, `m:${M}:IDR:payout -2000`, `m:${M}:IDR:receivable -6750`, 'p:IDR:fees -250'],
    },
    { name: 'nothing left anywhere: all owed', payin: 0n, payout: 0n, paid: 5_000n, fee: 0n, expected: ['p:IDR:clearing 5000', `m:${M}:IDR:receivable -5000`] },
    { name: 'payout exactly enough', payin: 0n, payout: 4_750n, paid: 5_000n, fee: 250n, expected: ['p:IDR:clearing 5000', `m:${M}:IDR:payout -4750`, 'p:IDR:fees -250'] },
  ];
  for (const c of splits) {
    test(`refund split: ${c.name}`, () => {
      const event: LedgerEvent = { kind: 'payin.refunded', merchantId: M, paid: c.paid, fee: c.fee, ...refundSplit(c.payin, c.payout, c.paid, c.fee) };
      assert.deepEqual(show(event), c.expected);
      assert.equal(sumOf(postingsFor(event)), 0n);
    });
  }
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

describe('EXPECTED_ORDER_ENTRIES (what ledger check demands) against the entries the posting rules write', () => {
  // Every path the state machine allows from creation: the entries its changes post (a payout's
  // freeze at creation, then orderChangeEvent per change) must be what the check expects of its end.
  const paths = (direction: Direction): OrderStatus[][] => {
    const out: OrderStatus[][] = [];
    const walk = (path: OrderStatus[]) => {
      out.push(path);
      for (const next of ORDER_STATUSES) {
        if (!path.includes(next) && decideTransition(direction, path.at(-1)!, next).kind === 'apply') walk([...path, next]);
      }
    };
    walk(['CREATED']);
    return out;
  };
  const facts = (direction: Direction, status: OrderStatus) =>
    ({ order_no: 'o', direction, merchant_id: 'm', status, amount: 1_000n, paid_amount: status === 'CREATED' ? null : 1_000n, fee: 10n }) as const;
  for (const direction of DIRECTIONS) {
    for (const path of paths(direction)) {
      const end = path.at(-1)!;
      test(`${direction} ${path.join(' → ')}`, () => {
        const posted: string[] = direction === 'payout' ? ['payout.freeze'] : [];
        for (let i = 1; i < path.length; i++) {
          const event = orderChangeEvent(facts(direction, path[i - 1]!), facts(direction, path[i]!));
          if (event) posted.push(event.kind);
        }
        const demanded = direction === 'payin' && end === 'REFUNDED' && !path.includes('PAID')
          ? []
          : EXPECTED_ORDER_ENTRIES.filter((e) => e.direction === direction && e.status === end).map((e) => e.kind);
        assert.deepEqual(posted.sort(), demanded.sort());
      });
    }
  }
});
