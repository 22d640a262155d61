import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { automaticPayoutOutcome, bankMayReport, type SandboxOutcome } from './sandbox.bank.ts';

describe('bankMayReport: the sandbox bank never takes back a final outcome', () => {
  // [what the bank said before (undefined: nothing), what it would say now, direction, allowed]
  const rows: Array<[string | undefined, SandboxOutcome, 'payin' | 'payout', boolean]> = [
    [undefined, 'PAID', 'payin', true],
    [undefined, 'FAILED', 'payin', true],
    [undefined, 'EXCEPTION', 'payout', true],
    [undefined, 'REFUNDED', 'payout', false],
    ['PENDING', 'PAID', 'payout', true],
    ['PENDING', 'FAILED', 'payout', true],
    ['PENDING', 'REFUNDED', 'payout', false],
    ['EXCEPTION', 'PAID', 'payin', true],
    ['EXCEPTION', 'FAILED', 'payout', true],
    ['EXCEPTION', 'EXCEPTION', 'payout', true],
    ['PAID', 'PAID', 'payin', true],
    ['PAID', 'FAILED', 'payin', false],
    ['PAID', 'EXCEPTION', 'payout', false],
    ['PAID', 'REFUNDED', 'payout', true],
    ['PAID', 'REFUNDED', 'payin', false],
    ['FAILED', 'FAILED', 'payout', true],
    ['FAILED', 'PAID', 'payin', false],
    ['FAILED', 'EXCEPTION', 'payin', false],
    ['FAILED', 'REFUNDED', 'payout', false],
    ['REFUNDED', 'REFUNDED', 'payout', true],
    ['REFUNDED', 'PAID', 'payout', false],
    ['REFUNDED', 'FAILED', 'payout', false],
  ];
  for (const [previous, outcome, direction, allowed] of rows) {
    it(`${previous ?? 'nothing'} → ${outcome} (${direction}): ${allowed ? 'reported' : 'refused'}`, () => {
      assert.equal(bankMayReport(previous, outcome, direction), allowed);
    });
  }
});

describe('automaticPayoutOutcome: the magic amounts', () => {
  const rows: Array<[bigint, SandboxOutcome]> = [
    [1013n, 'FAILED'],
    [1014n, 'EXCEPTION'],
    [1000n, 'PAID'],
    [1015n, 'PAID'],
    [13n, 'FAILED'],
    [113n, 'FAILED'],
    [1314n, 'EXCEPTION'],
  ];
  for (const [amount, outcome] of rows) it(`${amount} minor units → ${outcome}`, () => assert.equal(automaticPayoutOutcome(amount), outcome));
});
