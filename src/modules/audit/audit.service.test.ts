import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { checkReason, MAX_REASON_CHARS } from './audit.service.ts';

const cases: Array<[name: string, reason: string | undefined, refusal: RegExp | null]> = [
  ['none given', undefined, null],
  ['a plain line', 'bank confirmed the transfer failed', null],
  ['non-Latin text', 'банк подтвердил · 銀行確認', null],
  ['exactly the limit, counted in characters', '€'.repeat(MAX_REASON_CHARS), null],
  ['one over the limit', 'x'.repeat(MAX_REASON_CHARS + 1), /at most 500 characters/],
  ['a terminal escape', 'ok\u001b[31m red', /control characters/],
  ['an 8-bit CSI', 'ok\u009b31m', /control characters/],
  ['a line break', 'first\nsecond', /control characters/],
  ['a tab', 'a\tb', /control characters/],
  ['a NUL', 'a\u0000b', /control characters/],
  ['a line separator', 'first\u2028second', /control characters/],
  ['a paragraph separator', 'first\u2029second', /control characters/],
  ['a right-to-left override', 'refund \u202egnp.exe', /control characters/],
  ['a joiner inside a word', 'می\u200cخواهم', null],
  ['blank', '   ', /must not be blank/],
  ['a Hangul filler only', '\u3164', /must not be blank/],
  ['a blank Braille pattern only', '\u2800 ', /must not be blank/],
  ['marks piled on one letter', 'a' + '\u0301'.repeat(5), /pile combining marks/],
  ['Vietnamese, two marks on a letter', 'hoàn tiền đã được xác nhận', null],
  ['empty', '', /must not be blank/],
];

for (const [name, reason, refusal] of cases) {
  test(`checkReason: ${name}`, () => {
    if (!refusal) return checkReason(reason);
    assert.throws(() => checkReason(reason), (err: unknown) => err instanceof AppError && err.status === 400 && refusal.test(err.detail ?? ''));
  });
}
