import type { Command } from 'commander';
import { badRequest, notFound } from '../platform/errors.ts';
import { merchantName } from '../modules/merchants/merchant.service.ts';
import { findOrder } from '../modules/orders/order.service.ts';
import { checkPruneAge, listAttempts, listNotifications, pruneNotifications, resendNotification } from '../modules/notify/notify.service.ts';
import { parseDuration } from '../platform/duration.ts';
import { cliActor } from './actor.ts';
import { withCore } from './core.ts';
import { print } from './output.ts';

const STATES = ['pending', 'delivered', 'exhausted'];
const iso = (ms: bigint | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function registerNotifyCommands(program: Command): void {
  const notify = program.command('notify').description('merchant notifications (asynchronous callbacks)');
  notify
    .command('list')
    .description('notifications, newest first, with their last attempt')
    .option('--merchant <id>', 'only this merchant')
    .option('--order <orderNo>', 'only this order (with every attempt)')
    .option('--status <state>', 'pending, delivered or exhausted')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: { merchant?: string; order?: string; status?: string; limit: string; json?: boolean }) => {
      if (opts.status && !STATES.includes(opts.status)) throw badRequest('status: pending, delivered or exhausted');
      // Digits only: Number() would also take 1e2, 0x10 and " 5".
      const limit = /^\d{1,5}$/.test(opts.limit) ? Number(opts.limit) : NaN;
      if (!(limit >= 1 && limit <= 10_000)) throw badRequest('limit: a whole number from 1 to 10000');
      const rows = await withCore(async (core) => {
        // An empty list must mean "none", never "no such merchant or order".
        if (opts.merchant) await merchantName(core.db, opts.merchant);
        if (opts.order && !(await findOrder(core.db, opts.order))) throw notFound(`order ${opts.order} does not exist`);
        const found = await listNotifications(core.db, { merchantId: opts.merchant, orderNo: opts.order, state: opts.status, limit });
        return Promise.all(
          found.map(async (n) => ({
            id: n.id,
            orderNo: n.order_no,
            merchantId: n.merchant_id,
            orderStatus: n.status,
            state: n.state,
            attempts: Number(n.attempts),
            nextAttemptAt: n.state === 'pending' ? iso(n.next_attempt_at) : null,
            lastError: n.last_error,
            url: n.url,
            ...(opts.order
              ? {
                  history: (await listAttempts(core.db, n.id)).map((a) => ({
                    attempt: Number(a.attempt_no),
                    at: iso(a.started_at),
                    status: a.response_status === null ? null : Number(a.response_status),
                    outcome: a.outcome,
                    reason: a.reason,
                    durationMs: Number(a.duration_ms),
                  })),
                }
              : {}),
          })),
        );
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows) + '\n');
        return;
      }
      for (const row of rows) {
        print({ ...row, history: row.history ? JSON.stringify(row.history) : undefined }, false);
        process.stdout.write('\n');
      }
    });

  notify
    .command('resend')
    .description("start a fresh schedule for one of the order's notifications, the latest by default (same notification id); audited")
    .requiredOption('--order <orderNo>', 'order number')
    .option('--notification <id>', "another of the order's notifications (an id from notify list --order)")
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: { order: string; notification?: string; reason?: string; json?: boolean }) => {
      const row = await withCore((core) =>
        resendNotification(core.db, core.clock.now(), { orderNo: opts.order, notificationId: opts.notification, actor: cliActor(), reason: opts.reason }),
      );
      print({ notificationId: row.id, orderNo: row.order_no, state: row.state }, Boolean(opts.json));
    });

  notify
    .command('prune')
    .description('delete delivered and exhausted notifications (with their attempts) last changed longer ago than --older-than; pending ones are kept; audited')
    .requiredOption('--older-than <duration>', 'at least 1d, e.g. 90d')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: { olderThan: string; reason?: string; json?: boolean }) => {
      const olderThanMs = parseDuration(opts.olderThan);
      checkPruneAge(olderThanMs);
      const pruned = await withCore((core) => pruneNotifications(core.db, core.clock.now(), { olderThanMs, actor: cliActor(), reason: opts.reason }));
      print({ before: new Date(pruned.before).toISOString(), notifications: pruned.notifications, attempts: pruned.attempts }, Boolean(opts.json));
    });
}
