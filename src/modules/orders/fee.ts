import { badRequest } from '../../platform/errors.ts';

/**
 * A fee rule: a percentage in basis points (1 bps = 0.01 %, 10000 bps = 100 %)
 * plus a fixed part, optionally clamped. All amounts are minor units of the
 * order's currency.
 */
export interface FeeRule {
  bps: bigint;
  fixedMinor: bigint;
  minMinor?: bigint;
  maxMinor?: bigint;
}

const BPS_DENOMINATOR = 10_000n;

/** Refuses a rule an operator could not mean; `field` prefixes the names in the detail. */
export function validateFeeRule(rule: FeeRule, field = 'fee'): void {
  if (rule.bps < 0n || rule.bps > BPS_DENOMINATOR) {
    throw badRequest(`${field}.bps must be between 0 and 10000 (got ${rule.bps})`);
  }
  if (rule.fixedMinor < 0n) throw badRequest(`${field}.fixedMinor must not be negative`);
  if (rule.minMinor !== undefined && rule.minMinor < 0n) throw badRequest(`${field}.minMinor must not be negative`);
  if (rule.maxMinor !== undefined && rule.maxMinor < 0n) throw badRequest(`${field}.maxMinor must not be negative`);
  if (rule.minMinor !== undefined && rule.maxMinor !== undefined && rule.minMinor > rule.maxMinor) {
    throw badRequest(`${field}.minMinor must not exceed ${field}.maxMinor`);
  }
}

/**
 * Percentage part, rounded HALF UP to the minor unit: amount × bps / 10000,
 * where an exact half (…5000 remainder) rounds away from zero. Done as
 * (amount × bps + 5000) / 10000 in integer arithmetic, which is half-up for
 * the non-negative operands we accept; no floating point touches money.
 */
export function percentagePart(amountMinor: bigint, bps: bigint): bigint {
  return (amountMinor * bps + BPS_DENOMINATOR / 2n) / BPS_DENOMINATOR;
}

/**
 * The fee of an order: percentage (half up) + fixed, clamped to [min, max] when
 * set, and finally to [0, amount] — a fee larger than the order would make the
 * merchant owe money for being paid, so it is capped at the amount.
 */
export function computeFee(amountMinor: bigint, rule: FeeRule): bigint {
  // A negative amount never reaches here through the API (amount > 0 is
  // validated at the edge), so it is a bug, not a caller error.
  if (amountMinor < 0n) throw new RangeError(`computeFee: negative amount ${amountMinor}`);
  let fee = percentagePart(amountMinor, rule.bps) + rule.fixedMinor;
  if (rule.minMinor !== undefined && fee < rule.minMinor) fee = rule.minMinor;
  if (rule.maxMinor !== undefined && fee > rule.maxMinor) fee = rule.maxMinor;
  if (fee > amountMinor) fee = amountMinor;
  if (fee < 0n) fee = 0n;
  return fee;
}

/**
 * The fee an order finally costs its merchant (`tradeCharge`): the fee it was
 * given, except where the ledger gave that fee back: a payout that FAILED (its
 * frozen amount + fee released) and an order REFUNDED (amount + fee returned).
 * The order keeps its fee, which those postings and `ledger check` are made of.
 */
export function chargedFee(order: { direction: string; status: string; fee: bigint }): bigint {
  if (order.status === 'REFUNDED') return 0n;
  if (order.direction === 'payout' && order.status === 'FAILED') return 0n;
  return order.fee;
}
