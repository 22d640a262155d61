import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeResponse, type AckMode } from './ack.ts';
import type { SendErrorClass, SendResult } from './sender.ts';

const res = (status: number, body: string, truncated = false): SendResult => ({ kind: 'response', status, body, truncated, durationMs: 5 });
const err = (errorClass: SendErrorClass, message: string): SendResult => ({ kind: 'error', errorClass, message, durationMs: 5 });

const EXPECTED = 'expected SUCCESS or OK';
const long = `{"message":"${'x'.repeat(200)}"}`;

// [result, mode, acknowledged, reason when refused]
const rows: [SendResult, AckMode, boolean, string?][] = [
  [res(200, 'SUCCESS'), 'strict', true],
  [res(200, 'success'), 'strict', true],
  [res(200, 'SuCcEsS'), 'strict', true],
  [res(200, 'OK'), 'strict', true],
  [res(200, 'ok'), 'strict', true],
  [res(200, ' OK\n'), 'strict', true],
  [res(200, '\r\n\tSUCCESS \r\n'), 'strict', true],
  [res(200, '\uFEFFSUCCESS\r\n'), 'strict', true],
  [res(200, 'OK.'), 'strict', false, `body was \`OK.\`, ${EXPECTED}`],
  [res(200, 'SUCCESS!'), 'strict', false, `body was \`SUCCESS!\`, ${EXPECTED}`],
  [res(200, 'SUCCESS\nOK'), 'strict', false, `body was \`SUCCESS\\nOK\`, ${EXPECTED}`],
  [res(200, ''), 'strict', false, `body was empty, ${EXPECTED}`],
  [res(200, ' \r\n'), 'strict', false, `body was empty, ${EXPECTED}`],
  [res(200, '{"msg":"ok"}'), 'strict', false, `body was \`{"msg":"ok"}\`, ${EXPECTED}`],
  [res(200, '"SUCCESS"'), 'strict', false, `body was \`"SUCCESS"\`, ${EXPECTED}`],
  [res(200, 'ſuccess'), 'strict', false, `body was \`ſuccess\`, ${EXPECTED}`], // long s folds to S in Unicode
  [res(200, 'O\u212A'), 'strict', false, `body was \`O\u212A\`, ${EXPECTED}`], // Kelvin sign folds to k
  // Terminal escapes (C0, C1 CSI) and bidi overrides are shown, never passed to an operator's terminal.
  [res(200, '\u001b[31mRED\u009b31m\u202eevil'), 'strict', false, `body was \`\\u001b[31mRED\\u009b31m\\u202eevil\`, ${EXPECTED}`],
  [res(200, long), 'strict', false, `body was \`${long.slice(0, 100)}…\`, ${EXPECTED}`],
  // Only the first 4 KiB is read: "OK" followed by more than that is not known to be only "OK".
  [res(200, `OK${' '.repeat(4094)}`, true), 'strict', false, `body was over 4096 bytes (\`OK\`), ${EXPECTED}`],
  [res(200, `OK${' '.repeat(4094)}`, true), 'any-2xx', true],
  [res(201, 'SUCCESS'), 'strict', false, 'status 201, expected 200'],
  [res(204, ''), 'strict', false, 'status 204, expected 200'],
  [res(302, ''), 'strict', false, 'status 302 (redirects are not followed)'],
  [res(500, 'SUCCESS'), 'strict', false, 'status 500'],
  [res(404, 'OK'), 'strict', false, 'status 404'],
  [res(200, '{"msg":"ok"}'), 'any-2xx', true],
  [res(201, ''), 'any-2xx', true],
  [res(204, ''), 'any-2xx', true],
  [res(299, 'whatever'), 'any-2xx', true],
  [res(301, 'SUCCESS'), 'any-2xx', false, 'status 301 (redirects are not followed)'],
  [res(500, 'SUCCESS'), 'any-2xx', false, 'status 500'],
  [res(199, ''), 'any-2xx', false, 'status 199'],
  [err('timeout', 'timeout after 10000 ms'), 'strict', false, 'timeout after 10000 ms'],
  [err('ssrf', 'address 10.0.0.1 is private'), 'strict', false, 'address 10.0.0.1 is private'],
  [err('connect', 'connection refused'), 'any-2xx', false, 'connection refused'],
  [err('tls', 'tls: self-signed certificate'), 'strict', false, 'tls: self-signed certificate'],
  [err('dns', 'dns lookup of merchant.example not found'), 'strict', false, 'dns lookup of merchant.example not found'],
  [err('other', ''), 'strict', false, 'other error'],
];

describe('judgeResponse', () => {
  for (const [result, mode, acknowledged, reason] of rows) {
    const what = result.kind === 'response' ? `${result.status} ${JSON.stringify(result.body).slice(0, 30)}` : `${result.errorClass} error`;
    it(`${mode}: ${what} → ${acknowledged ? 'acknowledged' : 'refused'}`, () => {
      const verdict = judgeResponse(result, mode);
      assert.deepEqual(verdict, acknowledged ? { acknowledged: true } : { acknowledged: false, reason });
    });
  }
});
