/**
 * An independent model of what a merchant's money should be, written from the
 * spec (merchant-api.md §4 state machine; the ledger's posting rules as the
 * spec describes them: collected funds, funds available for payouts, funds
 * frozen by payouts in flight), for the property test. It shares no code with
 * the gateway. Amounts are minor units.
 */

export type Status = 'CREATED' | 'PENDING' | 'PAID' | 'FAILED' | 'EXPIRED' | 'REFUNDED' | 'EXCEPTION';
export type Direction = 'payin' | 'payout';

const EDGES: Record<Direction, Partial<Record<Status, Status[]>>> = {
  payin: {
    CREATED: ['PENDING', 'PAID', 'FAILED', 'EXPIRED', 'EXCEPTION'],
    PENDING: ['PAID', 'FAILED', 'EXPIRED', 'EXCEPTION'],
    PAID: ['REFUNDED'],
    EXPIRED: ['EXCEPTION'],
    EXCEPTION: ['PAID', 'FAILED', 'REFUNDED'],
  },
  payout: {
    CREATED: ['PENDING', 'PAID', 'FAILED', 'EXCEPTION'],
    PENDING: ['PAID', 'FAILED', 'EXCEPTION'],
    PAID: ['REFUNDED'],
    EXCEPTION: ['PAID', 'FAILED'],
  },
};

const NOTIFIABLE: readonly Status[] = ['PAID', 'FAILED', 'EXPIRED', 'REFUNDED', 'EXCEPTION'];
const FINAL: readonly string[] = ['PAID', 'FAILED', 'REFUNDED'];

export function decide(direction: Direction, from: Status, to: Status): 'apply' | 'noop' | 'refuse' {
  if (from === to) return 'noop';
  return EDGES[direction][from]?.includes(to) ? 'apply' : 'refuse';
}

export interface Fee {
  bps: bigint;
  fixed: bigint;
}

/** Percentage rounded half up, plus the fixed part, never more than the amount. */
export function feeOf(amount: bigint, rule: Fee): bigint {
  const fee = (amount * rule.bps + 5000n) / 10000n + rule.fixed;
  return fee > amount ? amount : fee;
}

export interface ModelOrder {
  orderNo: string;
  direction: Direction;
  amount: bigint;
  fee: bigint;
  paid: bigint | null;
  status: Status;
  /** What the sandbox bank's own record says (null: it has none); `due`: it will complete it by itself. */
  bank: { status: string; due: boolean } | null;
  /** A pay-in in EXCEPTION because money came after it expired: only an operator resolves it. */
  late?: boolean;
}

export class Insufficient extends Error {}

export type Outcome = 'applied' | 'noop' | 'refused';

export class MoneyModel {
  payin = 0n;
  payout = 0n;
  frozen = 0n;
  /** What the merchant owes (≤ 0): the part of refunds its payin balance could not cover. */
  receivable = 0n;
  /** Platform accounts, as changes since the model started. */
  fees = 0n;
  clearing = 0n;
  adjustments = 0n;
  notifications = 0;
  readonly orders: ModelOrder[] = [];

  constructor(
    readonly payinFee: Fee,
    readonly payoutFee: Fee,
  ) {}

  /** A state change and the money it moves; throws Insufficient (nothing applied) when a debit cannot be covered. */
  transition(o: ModelOrder, to: Status, paid: bigint | null = null): Outcome {
    const d = decide(o.direction, o.status, to);
    if (d === 'noop') return 'noop';
    if (d === 'refuse') return 'refused';
    if (o.direction === 'payin') {
      if (to === 'PAID') {
        const p = paid ?? o.amount;
        const fee = feeOf(p, this.payinFee);
        o.paid = p;
        o.fee = fee;
        // A debt is repaid first from what the merchant collects.
        const repaid = -this.receivable < p - fee ? -this.receivable : p - fee;
        this.receivable += repaid;
        this.payin += p - fee - repaid;
        this.fees += fee;
        this.clearing -= p;
      } else if (o.status === 'PAID' && to === 'REFUNDED') {
        // The money went back to the consumer: payin pays what it can, then payout, the rest is owed.
        const credited = o.paid! - o.fee;
        const covered = this.payin < credited ? this.payin : credited;
        const fromPayout = this.payout < credited - covered ? this.payout : credited - covered;
        this.payin -= covered;
        this.payout -= fromPayout;
        this.receivable -= credited - covered - fromPayout;
        this.fees -= o.fee;
        this.clearing += o.paid!;
      }
    } else {
      const total = o.amount + o.fee;
      if (to === 'PAID') {
        this.frozen -= total;
        this.clearing += o.amount;
        this.fees += o.fee;
      } else if (to === 'FAILED') {
        this.frozen -= total;
        this.payout += total;
      } else if (o.status === 'PAID' && to === 'REFUNDED') {
        this.clearing -= o.amount;
        this.fees -= o.fee;
        this.payout += total;
      }
    }
    if (to === 'EXCEPTION') o.late = o.status === 'EXPIRED';
    o.status = to;
    if (NOTIFIABLE.includes(to)) this.notifications++;
    return 'applied';
  }

  /** A pay-in the sandbox accepted (PENDING) or refused / did not answer (FAILED: suffix 97, 98). */
  createPayin(orderNo: string, amount: bigint): ModelOrder {
    const o: ModelOrder = { orderNo, direction: 'payin', amount, fee: 0n, paid: null, status: 'CREATED', bank: null };
    this.orders.push(o);
    const suffix = amount % 100n;
    this.transition(o, suffix === 97n || suffix === 98n ? 'FAILED' : 'PENDING');
    return o;
  }

  /** Whether a payout of this amount can be frozen now. */
  canPayout(amount: bigint): boolean {
    return this.payout >= amount + feeOf(amount, this.payoutFee);
  }

  /** A payout the balance covers: frozen, then the sandbox accepts it (PENDING), refuses it (97: FAILED) or never answers (98: EXCEPTION). */
  createPayout(orderNo: string, amount: bigint): ModelOrder {
    const fee = feeOf(amount, this.payoutFee);
    if (this.payout < amount + fee) throw new Insufficient();
    this.payout -= amount + fee;
    this.frozen += amount + fee;
    const o: ModelOrder = { orderNo, direction: 'payout', amount, fee, paid: null, status: 'CREATED', bank: null };
    this.orders.push(o);
    const suffix = amount % 100n;
    if (suffix === 97n) this.transition(o, 'FAILED');
    else if (suffix === 98n) this.transition(o, 'EXCEPTION');
    else {
      this.transition(o, 'PENDING');
      o.bank = { status: 'PENDING', due: true };
    }
    return o;
  }

  /** The bank settles an order and reports it (a PAID pay-in report carries what was paid, an EXCEPTION may). */
  report(o: ModelOrder, outcome: Status, paid: bigint | null = null): Outcome {
    o.bank = { status: outcome, due: false };
    // Money that arrived after expiry waits for an operator: no later report settles it.
    if (o.direction === 'payin' && o.status === 'EXCEPTION' && o.late) return 'refused';
    // Money for an expired pay-in is never credited by itself: EXCEPTION, with what arrived, for an operator.
    if (o.direction === 'payin' && outcome === 'PAID' && o.status === 'EXPIRED') {
      o.paid = paid ?? o.amount;
      return this.transition(o, 'EXCEPTION');
    }
    const result = this.transition(o, outcome, outcome === 'PAID' && o.direction === 'payin' ? (paid ?? o.amount) : null);
    // An exception that says what arrived keeps it: a resolution to PAID credits that.
    if (result === 'applied' && o.direction === 'payin' && outcome === 'EXCEPTION' && paid !== null) o.paid = paid;
    return result;
  }

  /** Pay-ins still waiting for payment when their time runs out. */
  expire(): void {
    for (const o of this.orders) if (o.direction === 'payin' && (o.status === 'CREATED' || o.status === 'PENDING')) this.transition(o, 'EXPIRED');
  }

  /** The sandbox completes its due payouts by itself: minor units ending 13 fail, 14 are exceptions, others are paid. */
  autoComplete(): void {
    for (const o of this.orders) {
      if (o.direction !== 'payout' || o.bank?.status !== 'PENDING' || !o.bank.due) continue;
      const suffix = o.amount % 100n;
      this.report(o, suffix === 13n ? 'FAILED' : suffix === 14n ? 'EXCEPTION' : 'PAID');
    }
  }

  /**
   * An operator resolution: refused by the state machine (422); for an
   * EXCEPTION, refused when the bank's record says a final status the
   * resolution contradicts and it is not forced (409); for a paid payout to
   * REFUNDED, refused unless the bank says REFUNDED or it is forced (409). A
   * refund is never refused for want of balance.
   */
  resolve(o: ModelOrder, to: 'PAID' | 'FAILED' | 'REFUNDED', force: boolean): Outcome | 409 | 422 {
    const d = decide(o.direction, o.status, to);
    if (d === 'noop') return 'noop';
    // An operator settles an EXCEPTION, or refunds a PAID order; an order in flight belongs to its channel.
    const settles = o.status === 'EXCEPTION' || (o.status === 'PAID' && to === 'REFUNDED');
    if (!settles || d === 'refuse') return 422;
    // A payout the bank never got moved no money: as good as FAILED. A pay-in's refund agrees with its payment.
    const said = o.bank?.status ?? (o.direction === 'payout' ? 'FAILED' : null);
    if (o.status === 'EXCEPTION') {
      const agrees = said === to || (o.direction === 'payin' && said === 'PAID' && to === 'REFUNDED');
      if (said !== null && FINAL.includes(said) && !agrees && !force) return 409;
    }
    // A paid payout comes back only when its bank says it returned the money.
    if (o.direction === 'payout' && to === 'REFUNDED' && said !== 'REFUNDED' && !force) return 409;
    try {
      return this.transition(o, to, o.paid ?? o.amount);
    } catch (err) {
      if (err instanceof Insufficient) return 422;
      throw err;
    }
  }

  /** Operator moves: a debit below zero is refused (422) and moves nothing. */
  transfer(from: 'payin' | 'payout', amount: bigint): 'ok' | 422 {
    const to = from === 'payin' ? 'payout' : 'payin';
    if (this[from] < amount) return 422;
    this[from] -= amount;
    this[to] += amount;
    return 'ok';
  }

  adjust(account: 'payin' | 'payout', amount: bigint): 'ok' | 422 {
    if (this[account] + amount < 0n) return 422;
    this[account] += amount;
    this.adjustments -= amount;
    return 'ok';
  }
}
