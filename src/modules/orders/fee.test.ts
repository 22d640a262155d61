import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AppError } from '../../platform/errors.ts';
import { chargedFee, computeFee, percentagePart, validateFeeRule } from './fee.ts';
import type { FeeRule } from './fee.ts';

const rule = (bps: bigint, fixedMinor = 0n, minMinor?: bigint, maxMinor?: bigint): FeeRule => ({
  bps,
  fixedMinor,
  ...(minMinor === undefined ? {} : { minMinor }),
  ...(maxMinor === undefined ? {} : { maxMinor }),
});

const FEES: ReadonlyArray<readonly [string, bigint, FeeRule, bigint]> = [
  // name, amount, rule, expected fee
  ['zero rule', 10_000n, rule(0n), 0n],
  ['2.5 % of 100.00', 10_000n, rule(250n), 250n],
  ['250 bps of 1 minor unit: 0.025 → 0', 1n, rule(250n), 0n],
  ['250 bps of 19: 0.475 → 0', 19n, rule(250n), 0n],
  ['250 bps of 20: exactly 0.5 → 1', 20n, rule(250n), 1n],
  ['250 bps of 21: 0.525 → 1', 21n, rule(250n), 1n],
  ['50 bps of 100: 0.5 → 1 (half up)', 100n, rule(50n), 1n],
  ['50 bps of 99: 0.495 → 0', 99n, rule(50n), 0n],
  ['50 bps of 300: 1.5 → 2', 300n, rule(50n), 2n],
  ['1 bps of 5000: 0.5 → 1', 5_000n, rule(1n), 1n],
  ['1 bps of 4999: 0.4999 → 0', 4_999n, rule(1n), 0n],
  ['1 bps of 14999: 1.4999 → 1', 14_999n, rule(1n), 1n],
  ['1 bps of 15000: 1.5 → 2', 15_000n, rule(1n), 2n],
  ['333 bps of 150: 4.995 → 5', 150n, rule(333n), 5n],
  ['333 bps of 149: 4.9617 → 5', 149n, rule(333n), 5n],
  ['333 bps of 135: 4.4955 → 4', 135n, rule(333n), 4n],
  ['100 % of amount', 12_345n, rule(10_000n), 12_345n],
  ['percentage + fixed', 10_000n, rule(200n, 30n), 230n],
  ['fixed only', 10_000n, rule(0n, 500n), 500n],
  ['min lifts a small fee', 1_000n, rule(100n, 0n, 50n), 50n],
  ['min does not lower a larger fee', 100_000n, rule(100n, 0n, 50n), 1_000n],
  ['max caps a large fee', 10_000_000n, rule(300n, 0n, undefined, 10_000n), 10_000n],
  ['min and max, inside', 10_000n, rule(300n, 0n, 100n, 1_000n), 300n],
  ['max caps percentage + fixed together', 10_000_000n, rule(300n, 30n, undefined, 10_000n), 10_000n],
  ['min lifts percentage + fixed together', 1_000n, rule(100n, 30n, 50n), 50n],
  ['fee never exceeds amount (fixed)', 100n, rule(0n, 500n), 100n],
  ['fee never exceeds amount (min)', 30n, rule(100n, 0n, 50n), 30n],
  ['zero amount', 0n, rule(250n, 30n, 10n), 0n],
  ['large IDR amount', 999_999_999_999_999n, rule(270n), 27_000_000_000_000n],
  ['beyond 2^53 stays exact', 9_007_199_254_740_993n, rule(1n), 900_719_925_474n],
];

for (const [name, amount, r, expected] of FEES) {
  test(`computeFee: ${name}`, () => {
    assert.equal(computeFee(amount, r), expected);
  });
}

test('percentagePart is half up at exact halves only', () => {
  const rows: ReadonlyArray<readonly [bigint, bigint, bigint]> = [
    [1n, 5_000n, 1n], // 0.5
    [1n, 4_999n, 0n], // 0.4999
    [3n, 5_000n, 2n], // 1.5
    [5n, 5_000n, 3n], // 2.5 (not banker's rounding)
    [7n, 5_000n, 4n], // 3.5
  ];
  for (const [amount, bps, expected] of rows) assert.equal(percentagePart(amount, bps), expected, `${amount}×${bps}`);
});

test('computeFee refuses a negative amount as a bug', () => {
  assert.throws(() => computeFee(-1n, rule(100n)), RangeError);
});

const INVALID: ReadonlyArray<readonly [string, FeeRule, string]> = [
  ['negative bps', rule(-1n), 'fee.bps must be between 0 and 10000 (got -1)'],
  ['bps over 100 %', rule(10_001n), 'fee.bps must be between 0 and 10000 (got 10001)'],
  ['negative fixed', rule(0n, -1n), 'fee.fixedMinor must not be negative'],
  ['negative min', rule(0n, 0n, -5n), 'fee.minMinor must not be negative'],
  ['negative max', rule(0n, 0n, undefined, -5n), 'fee.maxMinor must not be negative'],
  ['min above max', rule(0n, 0n, 100n, 99n), 'fee.minMinor must not exceed fee.maxMinor'],
];

for (const [name, r, detail] of INVALID) {
  test(`validateFeeRule refuses ${name}`, () => {
    assert.throws(
      () => validateFeeRule(r),
      (err: unknown) => err instanceof AppError && err.code === 'BAD_REQUEST' && err.detail === detail,
    );
  });
}

test('validateFeeRule accepts sane rules and names the field', () => {
  validateFeeRule(rule(0n));
  validateFeeRule(rule(10_000n, 0n, 0n, 0n));
  validateFeeRule(rule(250n, 30n, 100n, 100n));
  assert.throws(
    () => validateFeeRule(rule(20_000n), 'payinFee'),
    (err: unknown) => err instanceof AppError && (err.detail ?? '').startsWith('payinFee.bps'),
  );
});

const arbRule = fc.record({
  bps: fc.bigInt({ min: 0n, max: 10_000n }),
  fixedMinor: fc.bigInt({ min: 0n, max: 1_000_000n }),
  minMinor: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n }), { nil: undefined }),
  maxMinor: fc.option(fc.bigInt({ min: 0n, max: 10_000_000n }), { nil: undefined }),
});
const arbAmount = fc.bigInt({ min: 0n, max: 10n ** 18n });

test('property: 0 ≤ fee ≤ amount', () => {
  fc.assert(
    fc.property(arbAmount, arbRule, (amount, r) => {
      const fee = computeFee(amount, r);
      return fee >= 0n && fee <= amount;
    }),
    { numRuns: 2_000 },
  );
});

test('property: with fixed = 0 the fee is monotone in the amount', () => {
  fc.assert(
    fc.property(arbAmount, fc.bigInt({ min: 0n, max: 10n ** 12n }), arbRule, (a, delta, r) => {
      const noFixed = { ...r, fixedMinor: 0n };
      if (noFixed.minMinor !== undefined && noFixed.maxMinor !== undefined && noFixed.minMinor > noFixed.maxMinor) {
        return true; // not a valid rule
      }
      return computeFee(a, noFixed) <= computeFee(a + delta, noFixed);
    }),
    { numRuns: 2_000 },
  );
});

test('property: the percentage part matches exact rational rounding', () => {
  fc.assert(
    fc.property(arbAmount, fc.bigInt({ min: 0n, max: 10_000n }), (amount, bps) => {
      const p = percentagePart(amount, bps);
      // p is the half-up rounding of amount·bps/10000 iff |2·(amount·bps − p·10000)| ≤ 10000, ties going up.
      const twiceRemainder = 2n * (amount * bps - p * 10_000n);
      return twiceRemainder >= -10_000n && twiceRemainder < 10_000n;
    }),
    { numRuns: 2_000 },
  );
});

const CHARGED: ReadonlyArray<readonly [string, string, bigint]> = [
  // direction, status, charged of a fee of 350
  ['payin', 'CREATED', 350n],
  ['payin', 'PENDING', 350n],
  ['payin', 'PAID', 350n],
  ['payin', 'EXCEPTION', 350n],
  ['payin', 'REFUNDED', 0n],
  ['payout', 'CREATED', 350n],
  ['payout', 'PENDING', 350n],
  ['payout', 'PAID', 350n],
  ['payout', 'EXCEPTION', 350n],
  ['payout', 'FAILED', 0n],
  ['payout', 'REFUNDED', 0n],
];
for (const [direction, status, expected] of CHARGED) {
  test(`chargedFee: a ${direction} ${status} with a fee of 3.50 costs ${expected}`, () => {
    assert.equal(chargedFee({ direction, status, fee: 350n }), expected);
  });
}
