/**
 * A merchant's daily statement from the ledger: only that merchant, that UTC
 * day and that currency; totals equal to the sum of the rows and, for orders,
 * to the orders' own amounts and fees; fields escaped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMajorText } from '../src/platform/money.ts';
import type { OrderRow } from '../src/platform/db/schema.ts';
import { AppError } from '../src/platform/errors.ts';
import { merchantStatement, STATEMENT_COLUMNS } from '../src/modules/ledger/ledger.statement.ts';
import { adjust, transfer } from '../src/modules/ledger/ledger.service.ts';
import { createOrder, move, newMerchant, openLedgerDb, paidPayin, type LedgerDb } from './ledger.fixtures.ts';

const T = { timeout: 60_000 };
const DAY = '2026-03-10';
const D0 = Date.UTC(2026, 2, 10);
const HOUR = 3_600_000;

/** RFC 4180 reader, enough for the statement. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (quoted) field += c;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else field += c;
  }
  return rows;
}

const minor = (major: string) => parseMajorText(major, 'IDR', { allowNegative: true, allowZero: true });

interface Parsed {
  rows: Record<string, string>[];
  totals: Record<string, string>;
}

function read(csv: string): Parsed {
  const [header, ...lines] = parseCsv(csv);
  assert.deepEqual(header, [...STATEMENT_COLUMNS]);
  const records = lines.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i]!])));
  const totals = records.pop()!;
  assert.equal(totals.time, 'TOTAL');
  return { rows: records, totals };
}

const sum = (rows: Record<string, string>[], column: string) => rows.reduce((s, r) => s + minor(r[column]!), 0n);

describe('merchantStatement', () => {
  let L: LedgerDb;
  let m: string;
  const payins: OrderRow[] = [];
  const payouts: OrderRow[] = [];

  before(async () => {
    L = await openLedgerDb();
    m = await newMerchant(L.db);
    const other = await newMerchant(L.db);
    // Made at D0 - 2, PAID a millisecond later (a change is always later than the one before it): the last millisecond of the day before.
    L.clock.set(D0 - 2);
    await paidPayin(L, m, 1_000_000n, 10_000n);
    await L.db.transaction().execute((tx) =>
      transfer(tx, { now: D0 - 1, actor: 'test' }, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 500_000n }),
    );
    L.clock.set(D0); // the first millisecond of the day
    for (const [paid, fee] of [[1_234_500n, 37_035n], [500_000n, 0n], [77_700n, 777n]] as const) {
      payins.push(await paidPayin(L, m, paid, fee));
      L.clock.advance(HOUR);
    }
    await paidPayin(L, other, 999_900n, 9_999n);
    for (const [amount, fee] of [[200_000n, 5_000n], [150_000n, 2_500n]] as const) {
      const now = L.clock.now();
      payouts.push(await L.db.transaction().execute((tx) => createOrder(tx, { merchantId: m, direction: 'payout', amount, fee, now })));
      L.clock.advance(HOUR);
    }
    await L.db.transaction().execute((tx) => move(tx, L, payouts[0]!.order_no, 'PAID'));
    L.clock.set(D0 + 24 * HOUR); // the next day
    await L.db.transaction().execute((tx) => move(tx, L, payouts[1]!.order_no, 'FAILED'));
  });
  after(() => L?.close());

  it("has one row per entry of the merchant's day and totals equal to the orders' amounts and fees", T, async () => {
    const { rows, totals } = read(await merchantStatement(L.db, m, DAY, 'IDR'));
    assert.deepEqual(
      rows.map((r) => r.kind),
      ['payin.paid', 'payin.paid', 'payin.paid', 'payout.freeze', 'payout.freeze', 'payout.paid'],
    );
    assert.equal(rows[0]!.time, '2026-03-10T00:00:00.001Z', 'made at the first millisecond of the day, paid at the next');
    assert.deepEqual(rows.slice(0, 3).map((r) => r.orderNo), payins.map((o) => o.order_no));
    assert.deepEqual(rows.slice(0, 3).map((r) => r.merOrderNo), payins.map((o) => o.mer_order_no));
    assert.equal(totals.entry, '6 entries');
    for (const column of ['payin', 'payout', 'frozen', 'receivable']) assert.equal(minor(totals[column]!), sum(rows, column), `${column}: totals = sum of rows`);
    // From the orders themselves.
    const credited = payins.reduce((s, o) => s + (o.paid_amount! - o.fee), 0n);
    const taken = payouts.reduce((s, o) => s + o.amount + o.fee, 0n);
    const stillFrozen = payouts[1]!.amount + payouts[1]!.fee;
    assert.equal(minor(totals.payin!), credited);
    assert.equal(minor(totals.payout!), -taken);
    assert.equal(minor(totals.frozen!), stillFrozen);
    assert.equal(totals.payin, '17743.88');
  });

  it('the next day holds the release; another currency and an unused day are empty', T, async () => {
    const next = read(await merchantStatement(L.db, m, '2026-03-11', 'IDR'));
    assert.deepEqual(next.rows.map((r) => [r.kind, r.payout, r.frozen]), [['payout.released', '1525', '-1525']]);
    const mxn = read(await merchantStatement(L.db, m, DAY, 'MXN'));
    assert.deepEqual(mxn.rows, []);
    assert.deepEqual([mxn.totals.payin, mxn.totals.payout, mxn.totals.frozen], ['0', '0', '0']);
  });

  it('operator entries appear with their reason, escaped; totals still add up', T, async () => {
    const now = D0 + 20 * HOUR;
    const op = { now, actor: 'cli:ops' };
    await L.db.transaction().execute(async (tx) => {
      await transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 1_000_000n, reason: 'settle, "weekly"', operationId: 'op_stmt1' });
      await adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: -1_234n, reason: '=HYPERLINK("http://x"), two', operationId: 'op_stmt2' });
    });
    const csv = await merchantStatement(L.db, m, DAY, 'IDR');
    assert.ok(csv.includes(`"'=HYPERLINK(""http://x""), two"`), csv);
    const { rows, totals } = read(csv);
    const ops = rows.filter((r) => r.kind!.startsWith('op.'));
    assert.deepEqual(
      ops.map((r) => [r.entry, r.reason, r.payin, r.payout]),
      [
        ['op.adjust:op_stmt2', `'=HYPERLINK("http://x"), two`, '0', '-12.34'],
        ['op.transfer:op_stmt1', 'settle, "weekly"', '-10000', '10000'],
      ],
    );
    for (const column of ['payin', 'payout', 'frozen', 'receivable']) assert.equal(minor(totals[column]!), sum(rows, column));
  });

  it('refuses a bad day and an unknown merchant', T, async () => {
    const status = (p: Promise<unknown>) => p.then(() => 0, (e: unknown) => (e instanceof AppError ? e.status : -1));
    assert.equal(await status(merchantStatement(L.db, m, '2026-02-30', 'IDR')), 400);
    assert.equal(await status(merchantStatement(L.db, 'mch_nobody', DAY, 'IDR')), 404);
  });
});
