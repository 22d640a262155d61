/**
 * EMVCo Merchant-Presented QR (MPM) building blocks: the TLV format shared by
 * PIX, QRIS, PromptPay and QR Ph, and its CRC. Field lengths count characters,
 * so callers keep values ASCII (see `emvText`).
 */

/** One data object: 2-digit id, 2-digit length, value. */
export function tlv(id: string, value: string): string {
  if (!/^\d{2}$/.test(id)) throw new RangeError(`tlv: id must be 2 digits, got "${id}"`);
  if (value.length > 99) throw new RangeError(`tlv ${id}: value longer than 99 characters`);
  return id + String(value.length).padStart(2, '0') + value;
}

/** CRC-16/CCITT-FALSE of every byte value, so the CRC takes one lookup per byte. */
const CRC_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out), 4 uppercase hex. */
export function crc16ccitt(str: string): string {
  let crc = 0xffff;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    if (code > 0x7f) return crc16Bytes(Buffer.from(str, 'utf8'));
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[(crc >> 8) ^ code]!;
  }
  return crcHex(crc);
}

/** crc16ccitt over UTF-8 bytes (payloads are ASCII; this is for anything else). */
function crc16Bytes(bytes: Uint8Array): string {
  let crc = 0xffff;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[(crc >> 8) ^ byte]!;
  return crcHex(crc);
}

function crcHex(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** Appends field 63 (CRC); the CRC covers everything before it including "6304". */
export function withCrc(payloadWithout6304: string): string {
  const head = payloadWithout6304 + '6304';
  return head + crc16ccitt(head);
}

/** Builds a complete payload from ordered [id, value] pairs (skipping empty values) plus CRC. */
export function emvPayload(fields: ReadonlyArray<readonly [string, string]>): string {
  return withCrc(fields.map(([id, value]) => (value === '' ? '' : tlv(id, value))).join(''));
}

export interface TlvField {
  id: string;
  value: string;
}

/** Parses one level of TLVs; throws on a truncated or malformed string. */
export function parseTlv(s: string): TlvField[] {
  const out: TlvField[] = [];
  let i = 0;
  while (i < s.length) {
    const id = s.slice(i, i + 2);
    const len = Number(s.slice(i + 2, i + 4));
    if (!/^\d{2}$/.test(id) || !/^\d{2}$/.test(s.slice(i + 2, i + 4)) || i + 4 + len > s.length) {
      throw new RangeError(`parseTlv: malformed at offset ${i}`);
    }
    out.push({ id, value: s.slice(i + 4, i + 4 + len) });
    i += 4 + len;
  }
  return out;
}

/** True when the payload ends with a field 63 whose CRC matches the rest. */
export function hasValidCrc(payload: string): boolean {
  const head = payload.slice(0, -4);
  return head.endsWith('6304') && crc16ccitt(head) === payload.slice(-4);
}

/**
 * Scanner apps reject non-ASCII in name and city and the fields have length
 * limits: strip accents, drop anything else outside printable ASCII, trim, cut.
 */
export function emvText(s: string, maxLength: number): string {
  // Most names are already printable ASCII with single spaces.
  if (/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(s)) return s.slice(0, maxLength).trim();
  const ascii = s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.slice(0, maxLength).trim();
}

/** EMV amounts (field 54): digits with an optional 1–2 decimal fraction, ≤ 13 characters. */
export function assertEmvAmount(amountText: string): void {
  if (!/^\d+(\.\d{1,2})?$/.test(amountText) || amountText.length > 13) {
    throw new RangeError(`EMV amount must look like 123.45 (≤ 13 chars), got "${amountText}"`);
  }
}
