import { Type } from 'typebox';
import type { Db } from '../../platform/db/database.ts';
import { badRequest } from '../../platform/errors.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok, type Envelope } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { stringifyJson } from '../../platform/exact-number.ts';
import { MAX_MINOR, toMajorExact, toMajorNumber } from '../../platform/money.ts';
import { signParams } from '../../platform/sign.ts';
import { getBalance, type Balance, type CurrenciesOf } from './balance.service.ts';

type Guard = (request: import('fastify').FastifyRequest) => Promise<void>;
type Reply = import('fastify').FastifyReply;

const CurrencyQuery = Type.Object({ currency: Type.Optional(Type.String({ maxLength: 8 })) });
const V2Query = Type.Object({
  appId: Type.String({ maxLength: 64 }),
  sign: Type.String({ maxLength: 128 }),
  currency: Type.Optional(Type.String({ maxLength: 8 })),
});

/** Every amount up to MAX_MINOR comes back exact from a double (see toMajorNumber). */
function inDouble(balance: Balance): boolean {
  const fits = (v: bigint) => v <= MAX_MINOR && v >= -MAX_MINOR;
  return fits(balance.payin) && fits(balance.payout) && fits(balance.frozen);
}

/**
 * A balance is a sum and may have more significant digits than a double keeps:
 * then its values are ExactNumbers (`exact`), and the answer is written digit for
 * digit; otherwise JSON.stringify writes the same digits, on Fastify's usual path.
 */
function wire(balance: Balance) {
  const exact = !inDouble(balance);
  const value = exact ? toMajorExact : toMajorNumber;
  const data = {
    currency: balance.currency,
    payinValue: value(balance.payin, balance.currency),
    payoutValue: value(balance.payout, balance.currency),
    disableValue: value(balance.frozen, balance.currency),
  };
  return { data, exact };
}

function send(reply: Reply, data: Record<string, unknown>, exact: boolean): Reply | Envelope {
  if (!exact) return ok(data);
  return reply.type('application/json; charset=utf-8').send(stringifyJson(ok(data)));
}

export function registerBalanceRoutes(app: App, deps: { db: Db; v3Guard: Guard; v2Guard: Guard; currenciesOf: CurrenciesOf }): void {
  const v3 = async (reply: Reply, merchantId: string, currency: string | undefined) => {
    const { data, exact } = wire(await getBalance(deps.db, merchantId, currency, deps.currenciesOf));
    return send(reply, data, exact);
  };

  app.get('/api/v3/merchant/balance', { schema: { querystring: CurrencyQuery }, preValidation: deps.v3Guard }, async (request, reply) =>
    v3(reply, principalOf(request).merchantId, request.query.currency),
  );
  // The body is optional here (a bare POST asks for the default currency), so it is checked by hand.
  app.post('/api/v3/merchant/balance', { preValidation: deps.v3Guard }, async (request, reply) => {
    const body: unknown = request.body;
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) throw badRequest('body: must be a JSON object');
    const currency = (body as Record<string, unknown> | undefined)?.currency;
    if (currency !== undefined && typeof currency !== 'string') throw badRequest('currency: must be a string');
    return v3(reply, principalOf(request).merchantId, currency);
  });
  app.get('/api/v2/merchant/balance', { schema: { querystring: V2Query }, preValidation: deps.v2Guard }, async (request, reply) => {
    const principal = principalOf(request);
    const { data, exact } = wire(await getBalance(deps.db, principal.merchantId, request.query.currency, deps.currenciesOf));
    return send(reply, { ...data, sign: signParams(data, principal.signingSecret) }, exact);
  });
}
