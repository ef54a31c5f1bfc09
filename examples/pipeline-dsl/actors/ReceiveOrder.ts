import { Actor } from 'troupe'
import { z } from 'zod'
import type { Order, PlacedOrder } from './messages.js'

/** The source: checks what was posted, merges lines by SKU, drops orders with nothing in them (reply null). */
export class ReceiveOrder extends Actor<PlacedOrder, Order | null> {
  static readonly type = 'receiveOrder'
  static readonly schema = z.object({
    orderId: z.string().min(1),
    customer: z.string().min(1),
    lines: z.array(z.object({ sku: z.string().min(1), qty: z.number().int().min(0) })),
  })

  receive(msg: PlacedOrder): Order | null {
    const qty = new Map<string, number>()
    for (const line of msg.lines) qty.set(line.sku, (qty.get(line.sku) ?? 0) + line.qty)
    const lines = [...qty].filter(([, n]) => n > 0).map(([sku, n]) => ({ sku, qty: n }))
    return lines.length === 0 ? null : { orderId: msg.orderId, customer: msg.customer, lines }
  }
}
