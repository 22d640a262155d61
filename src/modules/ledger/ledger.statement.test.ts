import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { csvField, dayStartUtc, renderStatement } from './ledger.statement.ts';
import type { StatementRow } from './ledger.repository.ts';

describe('csvField', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['a=b', 'a=b'],
    ["'quoted", "'quoted"],
  ];
  for (const [input, expected] of cases) test(JSON.stringify(input), () => assert.equal(csvField(input), expected));

  test('numeric cells keep their minus sign', () => {
    assert.equal(csvField('-12.5', true), '-12.5');
    assert.equal(csvField('-12.5'), "'-12.5");
  });
});

describe('dayStartUtc', () => {
  test('midnight UTC', () => assert.equal(dayStartUtc('2026-03-10'), Date.UTC(2026, 2, 10)));
  for (const bad of ['2026-02-30', '2026-13-01', '2026-3-1', '20260310', '2026-03-10T00:00Z', '']) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => dayStartUtc(bad), (e: unknown) => e instanceof AppError && e.status === 400));
  }
});

test('renderStatement: header, rows, totals equal to the sum of the rows', () => {
  const row = (id: string, payin: bigint, payout: bigint, frozen: bigint, extra: Partial<StatementRow> = {}): StatementRow => ({
    id,
    kind: 'payin.paid',
    created_at: BigInt(Date.UTC(2026, 2, 10, 8, 30)),
    order_no: 'PI1',
    mer_order_no: 'm-1',
    reference: null,
    reason: null,
    payin,
    payout,
    frozen,
    receivable: 0n,
    ...extra,
  });
  const csv = renderStatement(
    [
      row('payin.paid:PI1', 9_750n, 0n, 0n),
      row('payout.freeze:PO1', 0n, -3_100n, 3_100n, { kind: 'payout.freeze', order_no: 'PO1', mer_order_no: '=cmd|calc', reason: 'a, "b"' }),
      row('payin.refunded:PI0', -100n, -6_550n, 0n, { kind: 'payin.refunded', order_no: 'PI0', mer_order_no: 'm-0', receivable: -3_100n }),
    ],
    'IDR',
  );
  assert.equal(
    csv,
    [
      'time,entry,kind,orderNo,merOrderNo,reference,reason,payin,payout,frozen,receivable',
      '2026-03-10T08:30:00.000Z,payin.paid:PI1,payin.paid,PI1,m-1,,,97.5,0,0,0',
      `2026-03-10T08:30:00.000Z,payout.freeze:PO1,payout.freeze,PO1,'=cmd|calc,,"a, ""b""",0,-31,31,0`,
      '2026-03-10T08:30:00.000Z,payin.refunded:PI0,payin.refunded,PI0,m-0,,,-1,-65.5,0,-31',
      'TOTAL,3 entries,,,,,,96.5,-96.5,31,-31',
      '',
    ].join('\n'),
  );
});

test('renderStatement of an empty day: header and zero totals', () => {
  assert.equal(renderStatement([], 'MXN'), 'time,entry,kind,orderNo,merOrderNo,reference,reason,payin,payout,frozen,receivable\nTOTAL,0 entries,,,,,,0,0,0,0\n');
});
