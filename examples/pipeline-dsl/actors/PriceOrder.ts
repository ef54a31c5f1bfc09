import { Actor } from 'troupe'
import type { Order, Price } from './messages.js'

/** Prices in cents. */
export const PRICES: Readonly<Record<string, number>> = { 'tea-earl-grey': 650, 'tea-sencha': 900, 'mug-white': 1200, 'kettle-steel': 4500 }

/** A branch of the fork: the order's total from the price list. Stateless, so its turns run at once. */
export class PriceOrder extends Actor<Order, Price> {
  static readonly type = 'priceOrder'

  receive(order: Order): Price {
    let total = 0
    const unknown: string[] = []
    for (const line of order.lines) {
      const price = PRICES[line.sku]
      if (price === undefined) unknown.push(line.sku)
      else total += price * line.qty
    }
    return { total, unknown }
  }
}
