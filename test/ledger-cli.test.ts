/**
 * The ledger's operator commands as real `pagoda` processes
 * (operator-interface.md: balance show/transfer/adjust, ledger check), plus
 * `ledger statement`: exact amounts, audit with actor and reason, refusals as
 * messages with exit code 2, and `ledger check` failing on a damaged ledger.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { sql } from 'kysely';
import { createWorkspace, type RunResult, type Workspace } from './helpers/process.ts';

// Each command is a new process (about 2.5 s on a slow 2-core VM, more while other test files run): a generous bound.
const T = { timeout: 180_000 };

function json(run: RunResult): Record<string, any> {
  assert.equal(run.code, 0, `pagoda exited ${run.code ?? run.signal}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `--json should print exactly one line:\n${run.stdout}`);
  return JSON.parse(lines[0]!);
}

function refused(run: RunResult, message: RegExp): void {
  assert.equal(run.code, 2, `expected exit code 2, got ${run.code ?? run.signal}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a refusal is a message, not a stack trace');
}

describe('pagoda balance / ledger commands', () => {
  let ws: Workspace;
  let m: string;
  const pagoda = (...args: string[]) => ws.run(args);

  before(async () => {
    ws = await createWorkspace();
    m = json(await pagoda('merchant', 'create', '--name', 'Ledger Co', '--currencies', 'IDR,MXN', '--json')).merchantId;
  });
  after(() => ws?.cleanup());

  it('balance show: zeros in the default currency, exact decimal text', T, async () => {
    assert.deepEqual(json(await pagoda('balance', 'show', '--merchant', m, '--json')), { merchantId: m, currency: 'IDR', payin: '0', payout: '0', frozen: '0', owed: '0' });
    const human = await pagoda('balance', 'show', '--merchant', m, '--currency', 'mxn');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^currency\s+MXN$/m);
    refused(await pagoda('balance', 'show', '--merchant', m, '--currency', 'BRL'), /BRL is not enabled/);
    refused(await pagoda('balance', 'show', '--merchant', 'mch_nobody'), /mch_nobody does not exist/);
  });

  it('balance adjust credits and debits with a reason; refuses overdrafts and bad input', T, async () => {
    const credit = json(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payin', '--amount', '250.75', '--reason', 'opening balance', '--json'));
    assert.match(credit.entryId, /^op\.adjust:op_/);
    assert.deepEqual({ ...credit, entryId: undefined }, { entryId: undefined, merchantId: m, currency: 'IDR', account: 'payin', amount: '250.75', payin: '250.75', payout: '0', frozen: '0' });
    const debit = json(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payin', '--amount', '-0.75', '--reason', 'bank charge', '--json'));
    assert.equal(debit.payin, '250');
    // ±X: an explicit plus credits, as a bare number does (another merchant: the tests below count m's entries).
    const other = json(await pagoda('merchant', 'create', '--name', 'Plus Co', '--currencies', 'IDR', '--json')).merchantId;
    const plus = json(await pagoda('balance', 'adjust', '--merchant', other, '--currency', 'IDR', '--account', 'payin', '--amount', '+1.5', '--reason', 'plus sign', '--json'));
    assert.deepEqual([plus.amount, plus.payin], ['1.5', '1.5']);
    refused(await pagoda('balance', 'adjust', '--merchant', other, '--currency', 'IDR', '--account', 'payin', '--amount', '+-1', '--reason', 'x'), /amount/);
    refused(await pagoda('balance', 'adjust', '--merchant', other, '--currency', 'IDR', '--account', 'payin', '--amount', '++1', '--reason', 'x'), /amount/);
    assert.equal(json(await pagoda('balance', 'show', '--merchant', other, '--json')).payin, '1.5');
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '-1', '--reason', 'x'), /insufficient balance/);
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '1.234', '--reason', 'x'), /amount/);
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'frozen', '--amount', '1', '--reason', 'x'), /account: payin or payout/);
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '1', '--reason', '  '), /reason/);
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '-0', '--reason', 'x'), /amount: must not be 0/);
    // A reason ends up in terminals and CSV statements: no escapes, bounded; the adjustment is not made.
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '1', '--reason', 'ok\u001b[2J'), /reason: must not contain control characters/);
    refused(await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '1', '--reason', 'x'.repeat(501)), /reason: at most 500 characters/);
    assert.deepEqual(json(await pagoda('balance', 'show', '--merchant', m, '--currency', ' idr ', '--json')), { merchantId: m, currency: 'IDR', payin: '250', payout: '0', frozen: '0', owed: '0' });
    const noReason = await pagoda('balance', 'adjust', '--merchant', m, '--currency', 'IDR', '--account', 'payout', '--amount', '1');
    assert.notEqual(noReason.code, 0);
    assert.match(noReason.stderr, /--reason/);
  });

  it('balance transfer moves collected funds to the payout balance, refuses more than there is', T, async () => {
    refused(await pagoda('balance', 'transfer', '--merchant', m, '--currency', 'IDR', '--from', 'payin', '--to', 'payout', '--amount', '250.01'), /insufficient balance/);
    refused(await pagoda('balance', 'transfer', '--merchant', m, '--currency', '', '--from', 'payin', '--to', 'payout', '--amount', '1'), /^pagoda: currency: "" is not an ISO 4217 currency/);
    refused(await pagoda('balance', 'transfer', '--merchant', m, '--currency', 'IDR', '--amount', '1', '--reason', '  '), /^pagoda: reason: must not be blank/);
    const out = json(await pagoda('balance', 'transfer', '--merchant', m, '--currency', 'IDR', '--from', 'payin', '--to', 'payout', '--amount', '100.50', '--reason', 'settlement', '--json'));
    assert.match(out.entryId, /^op\.transfer:op_/);
    assert.deepEqual([out.amount, out.payin, out.payout, out.frozen], ['100.5', '149.5', '100.5', '0']);
    assert.deepEqual(json(await pagoda('balance', 'show', '--merchant', m, '--json')), { merchantId: m, currency: 'IDR', payin: '149.5', payout: '100.5', frozen: '0', owed: '0' });
    const audit = await ws.withDb((db) =>
      db.selectFrom('audit_log').select(['actor', 'action', 'reason']).where('subject', '=', m).where('action', 'like', 'balance.%').orderBy('id').execute(),
    );
    const actor = `cli:${os.userInfo().username}`;
    assert.deepEqual(audit, [
      { actor, action: 'balance.adjust', reason: 'opening balance' },
      { actor, action: 'balance.adjust', reason: 'bank charge' },
      { actor, action: 'balance.transfer', reason: 'settlement' },
    ]);
  });

  it('ledger statement prints the day as CSV', T, async () => {
    const first = await ws.withDb((db) => db.selectFrom('journal_entries').select('created_at').orderBy('created_at').executeTakeFirstOrThrow());
    const day = new Date(Number(first.created_at)).toISOString().slice(0, 10);
    const run = await pagoda('ledger', 'statement', '--merchant', m, '--date', day, '--currency', 'idr');
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'time,entry,kind,orderNo,merOrderNo,reference,reason,payin,payout,frozen,receivable');
    assert.deepEqual(lines.slice(1, -1).map((l) => l.split(',')[2]), ['op.adjust', 'op.adjust', 'op.transfer']);
    assert.equal(lines.at(-1), 'TOTAL,3 entries,,,,,,149.5,100.5,0,0');
    const asJson = json(await pagoda('ledger', 'statement', '--merchant', m, '--date', day, '--currency', 'IDR', '--json'));
    assert.deepEqual(asJson.entries.map((e: any) => [e.kind, e.reason, e.payin, e.payout]), [
      ['op.adjust', 'opening balance', '250.75', '0'],
      ['op.adjust', 'bank charge', '-0.75', '0'],
      ['op.transfer', 'settlement', '-100.5', '100.5'],
    ]);
    assert.deepEqual(asJson.totals, { payin: '149.5', payout: '100.5', frozen: '0', receivable: '0' });
    refused(await pagoda('ledger', 'statement', '--merchant', m, '--date', '2026-02-30', '--currency', 'IDR'), /date/);
    refused(await pagoda('ledger', 'statement', '--merchant', m, '--date', day, '--currency', 'JPY'), /^pagoda: currency: JPY is not enabled for merchant /);
  });

  it('ledger check: consistent, then names what is wrong and exits 1', T, async () => {
    const clean = await pagoda('ledger', 'check');
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout, 'ledger is consistent\n');
    assert.deepEqual(json(await pagoda('ledger', 'check', '--json')), { consistent: true, problems: [] });
    await ws.withDb((db) => sql`update ledger_accounts set balance = balance + 1 where id = ${`m:${m}:IDR:payout`}`.execute(db));
    const damaged = await pagoda('ledger', 'check');
    assert.equal(damaged.code, 1, damaged.stderr);
    assert.equal(damaged.stdout, `account m:${m}:IDR:payout: balance 10051 but its postings sum to 10050\n1 problem\n`);
    const asJson = await pagoda('ledger', 'check', '--json');
    assert.equal(asJson.code, 1);
    assert.deepEqual(JSON.parse(asJson.stdout), { consistent: false, problems: [`account m:${m}:IDR:payout: balance 10051 but its postings sum to 10050`] });
    // A check that could not run is not a ledger found wrong: a script alerting on 1 must not fire for either of these.
    const usage = await pagoda('ledger', 'check', '--bogus');
    assert.equal(usage.code, 2, usage.stderr);
    const unreachable = await ws.run(['ledger', 'check'], { PAGODA_DATABASE_URL: 'postgres://pagoda@127.0.0.1:1/none', PAGODA_MASTER_KEY: 'ab'.repeat(32) });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /^pagoda: cannot use the database \(ECONNREFUSED\)/);
  });
});
