import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { createLogger } from '../platform/log.ts';
import { resolveOrder, type Resolution } from '../modules/operator/resolve.service.ts';
import { buildServices } from '../services.ts';
import { cliActor } from './actor.ts';
import { formatMajor } from '../platform/money.ts';
import { chargedFee } from '../modules/orders/fee.ts';
import { findOrder, listOrderEvents } from '../modules/orders/order.service.ts';
import { withCore } from './core.ts';
import { print } from './output.ts';
import { CASHIER_LINK_PURPOSE, cashierLinks } from '../modules/orders/cashier-link.ts';

export function registerOrderCommands(program: Command): void {
  const order = program.command('order').description('orders');
  order
    .command('show')
    .description('an order with its history')
    .argument('<orderNo>', 'order number')
    .option('--json', 'machine-readable output')
    .action(async (orderNo: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const { row, events, cashier } = await withCore(async (core) => {
        const found = await findOrder(core.db, orderNo);
        if (!found) throw notFound(`order ${orderNo} does not exist`);
        const link = found.direction === 'payin' ? cashierLinks(config.publicUrl, core.box.derive(CASHIER_LINK_PURPOSE))(found.order_no) : null;
        return { row: found, events: await listOrderEvents(core.db, orderNo), cashier: link };
      });
      const money = (v: bigint | null) => (v === null ? null : formatMajor(v, row.currency));
      const history = events.map((e) => ({
        at: new Date(Number(e.created_at)).toISOString(),
        from: e.from_status,
        to: e.to_status,
        cause: e.cause,
        actor: e.actor,
        // What the change recorded besides: a resolution's reason, the channel's answer, who submitted it.
        detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>),
      }));
      print(
        {
          orderNo: row.order_no,
          direction: row.direction,
          merchantId: row.merchant_id,
          merOrderNo: row.mer_order_no,
          status: row.status,
          currency: row.currency,
          amount: money(row.amount),
          paidAmount: money(row.paid_amount),
          tradeCharge: money(chargedFee(row)),
          fee: money(row.fee),
          method: row.method,
          channel: row.channel,
          message: row.message,
          cashier,
          history: opts.json ? history : history.map((h) => `${h.at} ${h.from ?? '-'}→${h.to} (${h.cause}, ${h.actor})${h.detail ? ` ${JSON.stringify(h.detail)}` : ''}`).join('\n  '),
        },
        Boolean(opts.json),
      );
    });
  registerResolveCommand(order);
}

function registerResolveCommand(order: Command): void {
  order
    .command('resolve')
    .description('settle an EXCEPTION order (the channel is asked first), refund a PAID pay-in, or record a PAID payout its bank returned')
    .argument('<orderNo>', 'order number')
    .requiredOption('--status <status>', 'PAID, FAILED or REFUNDED')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--force', 'resolve even against what the channel reports')
    .option('--paid-amount <amount>', 'a pay-in resolved to PAID: what arrived, in major units (default: what the channel reported, else the amount)')
    .option('--json', 'machine-readable output')
    .action(async (orderNo: string, opts: { status: string; reason: string; force?: boolean; paidAmount?: string; json?: boolean }) => {
      if (!['PAID', 'FAILED', 'REFUNDED'].includes(opts.status)) throw badRequest('status: PAID, FAILED or REFUNDED');
      if (opts.reason.trim() === '') throw badRequest('reason: say why');
      const { result, channel } = await withCore(async (core) => {
        const services = buildServices(core, createLogger('warn'));
        try {
          return await resolveOrder(services.payouts, {
            orderNo,
            to: opts.status as Resolution,
            reason: opts.reason,
            actor: cliActor(),
            force: Boolean(opts.force),
            ...(opts.paidAmount !== undefined ? { paidAmount: opts.paidAmount } : {}),
          });
        } finally {
          await services.close();
        }
      });
      print({ orderNo, status: result.order.status, applied: result.kind === 'applied', channel }, Boolean(opts.json));
    });
}
