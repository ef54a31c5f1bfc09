// The example over any System: tell generated orders to the pipeline's source, wait until every
// one has gone through, and read the ledgers and the stock.
import type { System } from 'troupe'
import { CustomerLedger, type LedgerState } from './actors/CustomerLedger.js'
import type { PlacedOrder } from './actors/messages.js'
import { ReceiveOrder } from './actors/ReceiveOrder.js'
import { ReserveStock, type Inventory } from './actors/ReserveStock.js'

export const CUSTOMERS = ['ada', 'grace', 'linus', 'barbara'] as const
const SKUS: readonly string[] = ['tea-earl-grey', 'tea-sencha', 'mug-white', 'kettle-steel']

/**
 * `count` orders, the same for the same count: each customer in turn, one to three lines; every
 * seventh has an unknown SKU and every eleventh only empty lines (dropped by ReceiveOrder).
 */
export function sampleOrders(count: number): PlacedOrder[] {
  return Array.from({ length: count }, (_, i) => {
    const lines = Array.from({ length: 1 + (i % 3) }, (_, j) => ({ sku: SKUS[(i + j) % SKUS.length]!, qty: 1 + ((i * 7 + j) % 3) }))
    if (i % 7 === 6) lines.push({ sku: 'tea-unknown', qty: 1 })
    if (i % 11 === 10) for (const line of lines) line.qty = 0
    return { orderId: `o-${String(i + 1).padStart(4, '0')}`, customer: CUSTOMERS[i % CUSTOMERS.length]!, lines }
  })
}

export interface OrdersReport {
  told: number
  ledgers: Record<string, LedgerState | undefined>
  stock: Inventory | undefined
  counts: Record<string, { accepted: number; done: number; dead: number }>
}

export async function runOrders(system: System, count: number): Promise<OrdersReport> {
  const orders = sampleOrders(count)
  // In order, one after the other: stock goes to the earlier order.
  for (const order of orders) await system.tell(ReceiveOrder, order)
  await system.idle()
  const ledgers: Record<string, LedgerState | undefined> = {}
  for (const c of CUSTOMERS) ledgers[c] = await system.state(CustomerLedger, c)
  return {
    told: orders.length,
    ledgers,
    stock: await system.state(ReserveStock),
    counts: Object.fromEntries(system.inspect().actors.map((a) => [a.type, { accepted: a.counts.accepted, done: a.counts.done, dead: a.counts.dead }])),
  }
}
