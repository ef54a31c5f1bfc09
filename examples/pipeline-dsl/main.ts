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
import { parseArgs } from 'node:util'
import { createSystem } from 'troupe'
import { orders } from './orders.js'
import { runOrders } from './run.js'

const USAGE = `Usage: tsx examples/pipeline-dsl/main.ts [options]

Tells generated orders to the orders pipeline (receive → price and reserve at once →
decide → customer ledger) in one process, and prints each customer's ledger and the stock.

Options
  --orders N   orders to generate (default 40)
  --json       print the report as JSON
  -h, --help   show this help
`

let values: { orders?: string; json?: boolean; help?: boolean } = {}
try {
  ;({ values } = parseArgs({ options: { orders: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }))
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const count = Number(values.orders ?? '40')
if (!Number.isInteger(count) || count < 0 || count > 100_000) {
  process.stderr.write(`--orders must be a whole number from 0 to 100000, got ${values.orders}\n\n${USAGE}`)
  process.exit(2)
}

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
