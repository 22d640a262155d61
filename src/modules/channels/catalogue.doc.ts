import { BANKS, type Country } from './banks.ts';
import { CATALOGUE, CURRENCY_COUNTRY, type MethodDef } from './catalogue.ts';
import type { Direction } from '../orders/order.ts';
import { formatMajor } from '../../platform/money.ts';

/**
 * The method catalogue as merchants read it: docs/methods.md is this text
 * (a test keeps the two equal) and `pagoda method list` prints the same facts.
 */

/** What `accountNo` must be for a payout, per country (the checks of catalogue.ts). */
const ACCOUNT_NO: Readonly<Record<Country, string>> = {
  MX: 'an 18-digit CLABE with a valid check digit; `bankCode`, if sent, must be the CLABE’s bank',
  BR: 'a PIX key: CPF (11 digits), CNPJ (14 digits), e-mail, +55 phone or random key (UUID)',
  IN: 'a 9–18 digit account number; `bankCode` is the branch’s IFSC (e.g. HDFC0001234)',
  ID: 'a bank account number, or the wallet’s mobile number for a wallet code',
  TH: 'a bank account number, or for PROMPTPAY a mobile number or 13-digit national / tax ID',
  PH: 'a bank account number, or the wallet’s mobile number for a wallet code',
  PK: 'a bank account number (or IBAN), or the wallet’s mobile number for a wallet code',
  BD: 'a bank account number, or the wallet’s mobile number for a wallet code',
};

function list(items: readonly string[] | undefined): string {
  return items && items.length > 0 ? items.map((i) => `\`${i}\``).join(', ') : '—';
}

function extraOf(def: MethodDef, direction: Direction): string {
  if (!def.directions.includes(direction)) return '—';
  const required = def.requiredExtra[direction] ?? [];
  const optional = def.optionalExtra[direction] ?? [];
  const parts = [...required.map((f) => `\`${f}\``), ...optional.map((f) => `\`${f}\` (optional)`)];
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function methodRow(def: MethodDef): string {
  const directions = def.directions.join(', ');
  const params = def.directions.includes('payin') ? list(['url', 'paymentLink', ...def.paramKinds]) : '—';
  const payTypes = def.payTypes ? `; \`payType\`: ${list(def.payTypes)}` : '';
  const bankKinds = def.bankKinds && BANKS[def.country].length > 0 ? `; \`bankCode\`: ${def.bankKinds.join(' or ')} codes` : '';
  return `| \`${def.code}\` | ${def.label} | ${directions} | ${list(def.aliases)} | ${extraOf(def, 'payin')}${def.directions.includes('payin') ? payTypes : ''} | ${extraOf(def, 'payout')}${def.directions.includes('payout') ? bankKinds : ''} | ${params} |`;
}

function bankTable(country: Country): string[] {
  const banks = BANKS[country];
  if (banks.length === 0) return [];
  return [
    '',
    `### ${country}`,
    '',
    '| `bankCode` | name | kind | also accepted |',
    '|---|---|---|---|',
    ...banks.map((b) => `| \`${b.code}\` | ${b.name} | ${b.kind} | ${list(b.aliases)} |`),
  ];
}

export function catalogueMarkdown(): string {
  const currencies = [...new Set(CATALOGUE.map((m) => m.currency))];
  const lines = [
    '# Payment methods',
    '',
    'The methods the gateway offers, by currency, with the `extra` members each needs and the',
    '`params` a pay-in answers with. `payMethod` is matched without regard to case, with or',
    'without the country prefix (`qris` on an IDR order is `ID_QRIS`), and by the aliases',
    'listed. An operator sees the same list with `npx pagoda method list`.',
    '',
    'Every pay-in\'s `params` has `url` and `paymentLink` (the hosted cashier page) and',
    '`expireTime` (epoch milliseconds, a number). Members of `extra` a method does not list',
    'are kept on the order and ignored by the method.',
  ];
  for (const currency of currencies) {
    lines.push('', `## ${currency}`, '', '| `payMethod` | name | directions | aliases | pay-in `extra` | payout `extra` | pay-in `params` |', '|---|---|---|---|---|---|---|');
    for (const def of CATALOGUE.filter((m) => m.currency === currency)) lines.push(methodRow(def));
    for (const def of CATALOGUE.filter((m) => m.currency === currency && m.payinMaxMinor !== undefined)) {
      lines.push('', `A \`${def.code}\` pay-in is at most ${formatMajor(def.payinMaxMinor!, currency)} ${currency}: the amount in its QR code has at most 13 characters.`);
    }
    const country = CURRENCY_COUNTRY[currency]!;
    if (CATALOGUE.some((m) => m.currency === currency && m.directions.includes('payout'))) {
      lines.push('', `Payout \`accountNo\`: ${ACCOUNT_NO[country]}.`);
    }
  }
  lines.push(
    '',
    '## Bank and wallet codes',
    '',
    'A payout\'s `extra.bankCode` (and an `ID_VA` pay-in\'s) is one of these codes, any case, or',
    'one of its other names. A `wallet` code takes the wallet\'s mobile number as `accountNo`.',
    'India uses the branch\'s IFSC instead; Brazil pays a PIX key and needs no code.',
  );
  for (const country of Object.keys(BANKS) as Country[]) lines.push(...bankTable(country));
  return `${lines.join('\n')}\n`;
}
