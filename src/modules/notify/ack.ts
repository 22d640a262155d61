/**
 * Whether a merchant acknowledged a notification (merchant-api.md section 7),
 * and if not, the reason recorded with the attempt and shown to operators.
 *
 * - `strict` (default): HTTP 200 and the body, surrounding whitespace and a
 *   BOM removed, is SUCCESS or OK in any letter case. A body longer than the
 *   4 KiB that is read is not known whole, so it is no acknowledgement.
 * - `any-2xx`: any status 200–299, whatever the body; for merchants whose code
 *   cannot change.
 *
 * A redirect is never followed and never an acknowledgement. A transport
 * failure's reason is the sender's message unchanged ("timeout after
 * 10000 ms", "connection refused", "address 10.0.0.1 is private").
 */
import { MAX_RESPONSE_BODY_BYTES, type SendResult } from './sender.ts';

export type AckMode = 'strict' | 'any-2xx';

export type AckVerdict = { acknowledged: true } | { acknowledged: false; reason: string };

export const ACK_MODES: readonly AckMode[] = ['strict', 'any-2xx'];

/** How much of a wrong body the reason quotes. */
const QUOTE_CHARS = 100;

// Without the `u` flag, `i` never folds a non-ASCII letter onto ASCII, so
// "ſuccess" (long s) and "OK" with a Kelvin sign are not acknowledgements.
const ACK_BODY = /^(?:SUCCESS|OK)$/i;

const ACK: AckVerdict = Object.freeze({ acknowledged: true });

function refuse(reason: string): AckVerdict {
  return { acknowledged: false, reason };
}

export function judgeResponse(result: SendResult, mode: AckMode): AckVerdict {
  if (result.kind === 'error') return refuse(result.message || `${result.errorClass} error`);
  const { status } = result;
  if (status >= 300 && status < 400) return refuse(`status ${status} (redirects are not followed)`);
  const is2xx = status >= 200 && status < 300;
  if (mode === 'any-2xx') return is2xx ? ACK : refuse(`status ${status}`);
  if (status !== 200) return refuse(is2xx ? `status ${status}, expected 200` : `status ${status}`);
  // String.prototype.trim removes Unicode whitespace, line terminators and U+FEFF (a BOM).
  const body = result.body.trim();
  if (result.truncated) return refuse(`body was over ${MAX_RESPONSE_BODY_BYTES} bytes (\`${quote(body)}\`), expected SUCCESS or OK`);
  if (ACK_BODY.test(body)) return ACK;
  if (body === '') return refuse('body was empty, expected SUCCESS or OK');
  return refuse(`body was \`${quote(body)}\`, expected SUCCESS or OK`);
}

/** The first QUOTE_CHARS characters, control characters made visible, `…` if cut. */
function quote(body: string): string {
  const points = Array.from(body);
  const visible = points
    .slice(0, QUOTE_CHARS)
    .map((c) => {
      const code = c.codePointAt(0)!;
      // Controls (C0, DEL, C1) and format characters (bidi overrides, zero widths) are shown escaped.
      if (!/[\p{Cc}\p{Cf}]/u.test(c)) return c;
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      return `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .join('');
  return points.length > QUOTE_CHARS ? `${visible}…` : visible;
}
