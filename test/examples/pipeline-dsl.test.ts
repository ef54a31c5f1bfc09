// The pipeline-dsl example: in memory with the testing kit, end to end in both modes, drawn with
// `troupe graph` and made into a template with `troupe template`.
import t, { type Test } from 'tap'
import { createTestSystem } from '../../lib/testing/index.js'
import { CustomerLedger } from '../../examples/pipeline-dsl/actors/CustomerLedger.js'
import type { PlacedOrder } from '../../examples/pipeline-dsl/actors/messages.js'
import { PRICES } from '../../examples/pipeline-dsl/actors/PriceOrder.js'
import { ReceiveOrder } from '../../examples/pipeline-dsl/actors/ReceiveOrder.js'
import { OPENING_STOCK, ReserveStock } from '../../examples/pipeline-dsl/actors/ReserveStock.js'
import { orders } from '../../examples/pipeline-dsl/orders.js'
import { runOrders, sampleOrders, type OrdersReport } from '../../examples/pipeline-dsl/run.js'
import { exampleModes } from './fixtures/modes.js'
import { troupeInProcess as troupe } from '../cli/fixtures/troupe-cli.js'

const APP = 'examples/pipeline-dsl/troupe.app.ts'

t.test('in memory: an order goes through the fork and the join to its ledger; a bad one is refused with the reason', async (t) => {
  const { system, settle } = createTestSystem({ actors: orders.actors })
  await system.tell(ReceiveOrder, { orderId: 'a', customer: 'ada', lines: [{ sku: 'mug-white', qty: 1 }, { sku: 'mug-white', qty: 2 }] })
  await system.tell(ReceiveOrder, { orderId: 'b', customer: 'ada', lines: [{ sku: 'kettle-steel', qty: 4 }] })
  await system.tell(ReceiveOrder, { orderId: 'c', customer: 'ada', lines: [{ sku: 'mug-white', qty: 0 }] })
  await settle()
  t.same(await system.state(CustomerLedger, 'ada'), { accepted: ['a'], refused: [{ orderId: 'b', reason: 'out of stock: kettle-steel' }], spent: 3 * 1200 })
  t.equal((await system.state(ReserveStock))?.['mug-white'], OPENING_STOCK['mug-white']! - 3, 'lines of one SKU merged, then reserved')
  await t.rejects(system.tell(ReceiveOrder, { orderId: '', customer: 'ada', lines: [] }), { name: 'ValidationError', message: /receiveOrder.*orderId/ })
})

/** What must hold whatever order the stock saw the orders in. */
function checkReport(t: Test, report: OrdersReport, sent: PlacedOrder[]): void {
  const byId = new Map(sent.map((o) => [o.orderId, o]))
  const empty = sent.filter((o) => o.lines.every((l) => l.qty === 0)).map((o) => o.orderId)
  const ledgers = Object.values(report.ledgers)
  const accepted = ledgers.flatMap((l) => l?.accepted ?? [])
  const refused = ledgers.flatMap((l) => l?.refused ?? [])
  t.equal(accepted.length + refused.length, sent.length - empty.length, 'every order with something in it reached one ledger')
  t.equal(new Set([...accepted, ...refused.map((r) => r.orderId)]).size, accepted.length + refused.length, 'once')
  t.notOk([...accepted, ...refused.map((r) => r.orderId)].some((id) => empty.includes(id)), 'empty orders stopped at the source')
  // The stock went to the accepted orders, exactly; none went below zero.
  const taken: Record<string, number> = {}
  let spent = 0
  for (const id of accepted) {
    for (const line of byId.get(id)!.lines) {
      taken[line.sku] = (taken[line.sku] ?? 0) + line.qty
      spent += PRICES[line.sku]! * line.qty
    }
  }
  for (const [sku, opening] of Object.entries(OPENING_STOCK)) {
    t.equal(report.stock?.[sku], opening - (taken[sku] ?? 0), `${sku}: opening stock less what accepted orders took`)
  }
  t.equal(ledgers.reduce((n, l) => n + (l?.spent ?? 0), 0), spent, 'the ledgers hold the accepted orders at list price')
  for (const r of refused) {
    const order = byId.get(r.orderId)!
    if (order.lines.some((l) => l.sku === 'tea-unknown')) t.match(r.reason, /no price for tea-unknown|out of stock: .*tea-unknown/)
    else t.match(r.reason, /^out of stock: /)
  }
  t.same(
    Object.entries(report.counts).filter(([, c]) => c.dead > 0),
    [],
    'nothing dead',
  )
}

// The stock is one instance: let its messages share PutRecords calls in the AWS mode (the checks
// hold in any order of arrival).
for (const mode of exampleModes(t, { ordering: 'batched' })) {
  t.test(`${mode.name}: 24 orders through the pipeline`, async (t) => {
    const { system, close } = await mode.start({ actors: orders.actors })
    t.teardown(close)
    const report = await runOrders(system, 24)
    checkReport(t, report, sampleOrders(24))
  })
}

t.test('troupe graph draws the pipeline; troupe template deploys it', async (t) => {
  const mermaid = await troupe('graph', '--app', APP)
  t.equal(mermaid.code, 0, mermaid.stderr)
  t.equal(
    mermaid.stdout,
    [
      'flowchart LR',
      '  receiveOrder["ReceiveOrder"]',
      '  priceOrder["PriceOrder"]',
      '  reserveStock[("ReserveStock · singleton")]',
      '  decide["Decide"]',
      '  customerLedger[("CustomerLedger · keyed")]',
      '  receiveOrder -->|fork| priceOrder',
      '  receiveOrder -->|fork| reserveStock',
      '  priceOrder -.->|join| decide',
      '  reserveStock -.->|join| decide',
      '  decide --> customerLedger',
      '',
    ].join('\n'),
  )
  const json = await troupe('graph', '--app', APP, '--json')
  t.match(JSON.parse(json.stdout), { name: 'orders', nodes: { length: 5 }, edges: { length: 5 } })
  t.match((await troupe('graph', '--app', APP, '--format', 'dot')).stdout, /"decide" -> "customerLedger";/)
  const bad = await troupe('graph', '--app', APP, '--format', 'svg')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--format must be one of mermaid, dot, json/)
  const template = await troupe('template', '--app', APP, '--json', '--name', 'orders')
  t.equal(template.code, 0, template.stderr)
  t.ok(JSON.parse(template.stdout).Resources.HostFunction, 'a template with the host function')
})
