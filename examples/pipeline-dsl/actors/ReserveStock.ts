import { Actor, type Context } from 'troupe'
import type { Order, Stock } from './messages.js'

export type Inventory = Record<string, number>

export const OPENING_STOCK: Inventory = { 'tea-earl-grey': 40, 'tea-sencha': 10, 'mug-white': 25, 'kettle-steel': 3 }

/**
 * The other branch: reserves the order's lines if every one is in stock, else nothing. A
 * singleton, so reservations never race: one turn at a time.
 */
export class ReserveStock extends Actor<Order, Stock, Inventory> {
  static readonly type = 'reserveStock'

  initialState(): Inventory {
    return { ...OPENING_STOCK }
  }

  receive(order: Order, ctx: Context<Inventory>): Stock {
    const short = order.lines.filter((l) => (ctx.state[l.sku] ?? 0) < l.qty).map((l) => l.sku)
    if (short.length > 0) return { reserved: false, short }
    for (const l of order.lines) ctx.state[l.sku] = ctx.state[l.sku]! - l.qty
    return { reserved: true, short: [] }
  }
}
