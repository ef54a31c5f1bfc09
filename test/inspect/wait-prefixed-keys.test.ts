// A stateless message that waits for a token or a slot has an item of its own, an instance of its
// type keyed `wait:<message id>`, which inspection counts as parked, not as an instance. A keyed
// actor's own key may begin with `wait:` too: that instance is counted and listed like any other,
// with the app's classes given or not. On dynalite.
import t from 'tap'
import { Actor } from '../../lib/index.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { encode } from '../../lib/core/serialization.js'
import { clients } from '../../lib/local/local-stack.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { counting } from '../fixtures/actors.js'

const Keyed = counting('wk.keyed')

class Stateless extends Actor<{ x: number }> {
  static readonly type = 'wk.stateless'
  receive() {}
}

const { stack } = await localStackFor(t)
const { dynamodb } = clients(stack)
t.teardown(() => dynamodb.destroy())
const tableName = 'wait-keys'
await createTable(dynamodb, tableName)
const states = new DynamoDBStateStore({ client: dynamodb, tableName })
const now = Date.now()
const meta = (parked: unknown[]) => encode({ marks: {}, recent: [], ...(parked.length ? { parked } : {}) })
// A keyed instance whose key begins with `wait:`, with nothing parked; and one with a message parked under that key.
await states.put(Keyed.type, 'wait:abc', { state: encode({ n: 1 }), version: 1, updatedAt: now, meta: meta([]) }, undefined)
const parkedKeyed = { id: 'm-k', type: Keyed.type, key: 'wait:def', body: { k: 'wait:def' }, correlationId: 'm-k', sentAt: now, attempt: 1 }
await states.put(Keyed.type, 'wait:def', { state: encode({ n: 2 }), version: 1, updatedAt: now, meta: meta([parkedKeyed]) }, undefined)
// A stateless message's waiting item: its message has no key.
const parkedStateless = { id: 'm-s', type: Stateless.type, key: '', body: { x: 1 }, correlationId: 'm-s', sentAt: now, attempt: 1 }
await states.put(Stateless.type, 'wait:m-s', { state: encode(undefined), version: 1, updatedAt: now, meta: meta([parkedStateless]) }, undefined)

for (const [label, actors] of [['without the app’s classes', undefined], ['with them', [Keyed, Stateless]]] as const) {
  t.test(label, async (t) => {
    const inspector = new TableInspector({ dynamodb, tableName, ...(actors ? { actors } : {}) })
    t.teardown(() => inspector.close())
    const rows = await inspector.actors()
    t.equal(rows.find((r) => r.type === Keyed.type)?.instances, 2, 'both keyed instances are counted')
    t.equal(rows.find((r) => r.type === Keyed.type)?.parked, 1, 'and the one parked message')
    t.equal(rows.find((r) => r.type === Stateless.type)?.instances ?? 0, 0, 'the waiting item is no instance')
    t.equal(rows.find((r) => r.type === Stateless.type)?.parked, 1, 'its message is parked')
    t.same((await inspector.instances(Keyed.type)).items.map((i) => [i.key, i.waiting]).sort(), [['wait:abc', 0], ['wait:def', 1]], 'both are listed, the parked message as waiting')
    t.same((await inspector.instances(Stateless.type)).items, [], 'the waiting item is not listed')
  })
}
