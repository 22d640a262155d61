import { Type } from 'typebox';
import type { Db } from '../../platform/db/database.ts';
import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest, notFound } from '../../platform/errors.ts';
import type { Direction } from './order.ts';
import { findOrder, findOrderByRef } from './order.repository.ts';

export interface OrderRef {
  orderNo?: string;
  merOrderNo?: string;
}

/** Query parameters of the v3 query endpoints (POST body or GET query). */
export const QueryRef = Type.Object({
  orderNo: Type.Optional(Type.String({ maxLength: 64 })),
  merOrderNo: Type.Optional(Type.String({ maxLength: 64 })),
});

/** The v2 query: the same numbers (either may be empty) plus `appId` and `sign`. */
export const V2QueryRef = Type.Object({
  appId: Type.String({ maxLength: 64 }),
  sign: Type.String({ maxLength: 128 }),
  orderNo: Type.Optional(Type.String({ maxLength: 64 })),
  merOrderNo: Type.Optional(Type.String({ maxLength: 64 })),
});

/** One of the two numbers is required; an empty string counts as absent. */
export function parseRef(input: OrderRef | undefined): OrderRef {
  const orderNo = input?.orderNo || undefined;
  const merOrderNo = input?.merOrderNo || undefined;
  if (!orderNo && !merOrderNo) throw badRequest('orderNo or merOrderNo: one is required');
  return { orderNo, merOrderNo };
}

/** The merchant's order of that direction; another merchant's order is as unknown as a missing one. */
export async function findOwnedOrder(db: Db, merchantId: string, direction: Direction, ref: OrderRef): Promise<OrderRow> {
  const order = ref.orderNo ? await findOrder(db, ref.orderNo) : ref.merOrderNo ? await findOrderByRef(db, merchantId, direction, ref.merOrderNo) : undefined;
  if (!order || order.merchant_id !== merchantId || order.direction !== direction) throw notFound('order not found');
  if (ref.merOrderNo && ref.orderNo && order.mer_order_no !== ref.merOrderNo) throw notFound('order not found');
  return order;
}
