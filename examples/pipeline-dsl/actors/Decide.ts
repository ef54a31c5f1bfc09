import { Actor, type Joined } from 'troupe'
import type { PriceOrder } from './PriceOrder.js'
import type { ReserveStock } from './ReserveStock.js'
import type { Decision, Order } from './messages.js'

export type DecideIn = Joined<[typeof PriceOrder, typeof ReserveStock], Order>

/** The join: gets both branches' replies as a typed tuple, and the order as `value`. */
export class Decide extends Actor<DecideIn, Decision> {
  static readonly type = 'decide'

  receive(msg: DecideIn): Decision {
    const { orderId, customer } = msg.value
    if (!msg.complete) return { orderId, customer, accepted: false, total: 0, reason: `no answer from ${msg.missing.map((m) => m.actor).join(', ')}` }
    const [price, stock] = msg.replies
    if (price.unknown.length > 0) return { orderId, customer, accepted: false, total: 0, reason: `no price for ${price.unknown.join(', ')}` }
    if (!stock.reserved) return { orderId, customer, accepted: false, total: 0, reason: `out of stock: ${stock.short.join(', ')}` }
    return { orderId, customer, accepted: true, total: price.total }
  }
}
