import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Insertable } from 'kysely';
import { createBatcher } from '../../../platform/batcher.ts';
import { dialectOf, type Db } from '../../../platform/db/database.ts';
import type { SandboxBankTable } from '../../../platform/db/schema.ts';
import type { Transact } from '../../../platform/db/transactor.ts';
import { badRequest, unauthorized } from '../../../platform/errors.ts';
import { parseJsonBody } from '../../../platform/json.ts';
import { isOrderStatus } from '../../orders/order.ts';
import type { Channel, ChannelEvent } from '../channel.ts';
import { sandboxParams } from './sandbox.params.ts';

export const SANDBOX = 'sandbox';
export const SIGNATURE_HEADER = 'x-sandbox-signature';

/**
 * Magic amounts (minor units' last two digits) that make the sandbox "bank"
 * misbehave at create time, so merchants and tests can see those paths.
 */
export const SANDBOX_REFUSE_SUFFIX = 97n;
export const SANDBOX_SILENT_SUFFIX = 98n;

const OUTCOMES = new Set(['PENDING', 'PAID', 'FAILED', 'EXCEPTION', 'REFUNDED']);

export interface SandboxReport {
  orderNo: string;
  channelRef: string | null;
  outcome: ChannelEvent['outcome'];
  paidAmountMinor: string | null;
  message: string | null;
  eventId: string;
}

/** The sandbox bank signs its callbacks with a key derived from the master key. */
export function signSandboxReport(key: Buffer, raw: string): string {
  return createHmac('sha256', key).update(raw, 'utf8').digest('hex');
}

function headerOf(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A channel that behaves like an upstream provider without leaving the
 * machine: it accepts orders with realistic payment instructions, remembers
 * outcomes in its own table, and reports them through signed callbacks.
 */
export function createSandboxChannel(deps: { db: Db; transact: Transact; key: Buffer; now: () => number; payoutDelayMs: number }): Channel {
  // The bank's record of a payout it accepted. On PostgreSQL the records of
  // concurrent payouts are one statement, atomic by itself (no transaction
  // around it); on SQLite each joins the group commit (the sandbox shares the
  // gateway's database).
  const insertRecords = (db: Db, rows: Insertable<SandboxBankTable>[]) => db.insertInto('sandbox_bank').values(rows).onConflict((oc) => oc.column('order_no').doNothing()).execute();
  const record =
    dialectOf(deps.db) === 'postgres'
      ? createBatcher(async (rows: Insertable<SandboxBankTable>[]) => void (await insertRecords(deps.db, rows)), { maxBatch: 100 })
      : (row: Insertable<SandboxBankTable>) => deps.transact(async (tx) => void (await insertRecords(tx, [row])));
  return {
    name: SANDBOX,

    async create(order, deadline) {
      const suffix = order.amount % 100n;
      if (suffix === SANDBOX_REFUSE_SUFFIX) {
        return { kind: 'refused', reason: `sandbox bank refused the order (amount ending in ${SANDBOX_REFUSE_SUFFIX})` };
      }
      if (suffix === SANDBOX_SILENT_SUFFIX) {
        // Never answers: the caller's deadline decides.
        await new Promise<void>((resolve) => deadline.signal.addEventListener('abort', () => resolve(), { once: true }));
        return { kind: 'unknown', reason: 'sandbox bank did not answer' };
      }
      if (order.direction === 'payout') {
        // Keyed by the order: a payout submitted twice is one payout at the bank.
        await record({ order_no: order.orderNo, direction: 'payout', status: 'PENDING', amount: order.amount, paid_amount: null, event_id: null, due_at: BigInt(deps.now() + deps.payoutDelayMs), updated_at: deps.now() });
        return { kind: 'accepted', channelRef: `sbx_${order.orderNo}`, params: {} };
      }
      try {
        const params = sandboxParams(order.method, {
          orderNo: order.orderNo,
          amountText: order.amountText,
          currency: order.currency,
          merchantName: order.merchantName,
          expireTime: order.expiresAt ?? 0,
          ...(order.extra ? { extra: order.extra } : {}),
        });
        return { kind: 'accepted', channelRef: `sbx_${order.orderNo}`, params };
      } catch (err) {
        // EMV QR codes carry at most 13 characters of amount: a bank refuses larger ones.
        if (err instanceof RangeError) return { kind: 'refused', reason: `sandbox bank refused the order: ${err.message}` };
        throw err;
      }
    },

    async query(order) {
      const row = await deps.db.selectFrom('sandbox_bank').selectAll().where('order_no', '=', order.orderNo).executeTakeFirst();
      // Pay-in instructions are issued without a record; a payout the bank never got is absent.
      if (!row) return order.direction === 'payout' ? { kind: 'absent' } : { kind: 'status', status: 'PENDING' };
      if (!isOrderStatus(row.status)) return { kind: 'unknown', reason: `sandbox bank holds status ${row.status}` };
      return { kind: 'status', status: row.status, ...(row.paid_amount !== null ? { paidAmount: row.paid_amount } : {}) };
    },

    parseCallback(raw, headers) {
      const given = headerOf(headers, SIGNATURE_HEADER) ?? '';
      const expected = signSandboxReport(deps.key, raw.toString('utf8'));
      if (!/^[0-9a-f]{64}$/.test(given) || !timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'))) {
        throw unauthorized('sandbox callback signature is missing or wrong');
      }
      const report = parseJsonBody(raw) as Partial<SandboxReport>;
      if (typeof report.orderNo !== 'string' || typeof report.eventId !== 'string') throw badRequest('orderNo and eventId are required');
      if (typeof report.outcome !== 'string' || !OUTCOMES.has(report.outcome)) throw badRequest('outcome: not a sandbox outcome');
      const paid = report.paidAmountMinor;
      if (paid !== null && paid !== undefined && !((typeof paid === 'string' || typeof paid === 'number') && /^\d{1,18}$/.test(String(paid)))) {
        throw badRequest('paidAmountMinor: must be digits');
      }
      return {
        orderNo: report.orderNo,
        channelRef: report.channelRef ?? null,
        outcome: report.outcome as ChannelEvent['outcome'],
        paidAmount: paid === null || paid === undefined ? null : BigInt(paid),
        message: report.message ?? null,
        eventId: report.eventId,
      };
    },
  };
}
