// troupe example: a pipeline declared in code.
//
// What it shows
// - `pipeline('orders').from(ReceiveOrder).fork(PriceOrder, ReserveStock).join(Decide, …).pipe(CustomerLedger)`
//   (orders.ts): each stage an ordinary actor class; each stage's reply is the next one's message,
//   checked by the compiler against its mailbox; a fork's join gets the branches' replies as a
//   typed tuple; a `null` reply stops a message (an empty order).
// - The same declaration drawn (`troupe graph`), deployed (`troupe template`), run embedded
//   (this file), in the AWS mode (`troupe dev`), and unit-tested in memory with troupe/testing.
//
// Run it
//   npx tsx examples/pipeline-dsl/main.ts [--orders N] [--json]
//   npx troupe dev --app examples/pipeline-dsl/troupe.app.ts --once
//   npx troupe graph --app examples/pipeline-dsl/troupe.app.ts [--format dot]
import { createSystem } from 'troupe'
import { orders } from './orders.js'
import { runOrders } from './run.js'
import { readFlags, wholeNumberFlag } from '../shared/flags.js'

const USAGE = `Usage: tsx examples/pipeline-dsl/main.ts [options]

Tells generated orders to the orders pipeline (receive → price and reserve at once →
decide → customer ledger) in one process, and prints each customer's ledger and the stock.

Options
  --orders N   orders to generate (default 40)
  --json       print the report as JSON
  -h, --help   show this help
`

const values = readFlags(USAGE, { orders: { type: 'string' }, json: { type: 'boolean' } })
const count = wholeNumberFlag(USAGE, 'orders', values.orders, 40, 0, 100_000)

const system = createSystem({ actors: orders.actors, logLevel: 'warn' })
try {
  const report = await runOrders(system, count)
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else {
    for (const [customer, ledger] of Object.entries(report.ledgers)) {
      process.stdout.write(`${customer.padEnd(8)} ${String(ledger?.accepted.length ?? 0).padStart(3)} accepted  ${((ledger?.spent ?? 0) / 100).toFixed(2).padStart(9)} €  ${ledger?.refused.length ?? 0} refused${ledger?.refused[0] ? ` (first: ${ledger.refused[0].orderId}, ${ledger.refused[0].reason})` : ''}\n`)
    }
    process.stdout.write(`stock left: ${Object.entries(report.stock ?? {}).map(([sku, n]) => `${sku} ${n}`).join(', ')}\n`)
  }
} finally {
  await system.stop()
}
