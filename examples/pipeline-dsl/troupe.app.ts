// The orders pipeline in the AWS mode, on this machine:
//   npx troupe dev --app examples/pipeline-dsl/troupe.app.ts --once
// and drawn, or deployed as a CloudFormation template:
//   npx troupe graph --app examples/pipeline-dsl/troupe.app.ts
//   npx troupe template --app examples/pipeline-dsl/troupe.app.ts
import { defineApp } from 'troupe/aws'
import { orders } from './orders.js'
import { runOrders } from './run.js'

export default defineApp({
  actors: orders.actors,
  pipelines: [orders],
  async start(system, { log }) {
    const count = Number(process.env.ORDERS ?? 40)
    const report = await runOrders(system, count)
    for (const [customer, ledger] of Object.entries(report.ledgers)) {
      log(`orders: ${customer}: ${ledger?.accepted.length ?? 0} accepted (${(ledger?.spent ?? 0) / 100} €), ${ledger?.refused.length ?? 0} refused`)
    }
    log(`orders: stock left ${JSON.stringify(report.stock)}`)
  },
})
