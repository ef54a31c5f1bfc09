// An instance item whose bookkeeping (`m`) was changed by hand into a shape troupe never writes:
// the host refuses it with TROUPE_ITEM_UNREADABLE, naming the item and the field, neither runs nor
// overwrites it, and its records wait for redelivery; the other keys of the batch run.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { createLogger } from '../../lib/core/logger.js'
import { decode, encode } from '../../lib/core/serialization.js'
import { Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches } from './fixtures/durable.js'

type In = { key: string; n: number }
type Seen = { seen: number[] }

class Tally extends Actor<In, void, Seen> {
  static readonly type = 'dm.tally'
  key(m: In) {
    return m.key
  }
  initialState(): Seen {
    return { seen: [] }
  }
  receive(m: In, ctx: Context<Seen>) {
    ctx.state.seen.push(m.n)
  }
}

const { aws } = await localStackFor(t)
let made = 0

for (const [name, meta, problem] of [
  ['held is a string', { marks: {}, recent: [], paused: true, held: 'hand-edited' }, 'held is not a list'],
  ['held holds a number', { marks: {}, recent: [], paused: true, held: [42] }, 'held holds something that is not a message'],
  ['recent is an object', { marks: {}, recent: { a: 1 } }, 'recent is not a list'],
  ['marks is a list', { marks: ['x'], recent: [] }, 'marks is not an object'],
  ['outbox holds a number', { marks: {}, recent: [], outbox: [7] }, 'outbox holds something that is not an outbox segment'],
] as const) {
  t.test(`an item whose bookkeeping says ${name} is refused by name; the key beside it runs`, async (t) => {
    const tableName = `dm-${++made}`
    await createTable(aws.dynamodb, tableName)
    const input = await createStream(aws.kinesis, 1, `${tableName}-in`)
    const output = await createStream(aws.kinesis, 1, `${tableName}-out`)
    const clock = new SimulatedClock()
    const plain = new DynamoDBStateStore({ client: aws.dynamodb, tableName })
    const damaged = { state: encode({ seen: [] }), version: 1, updatedAt: clock.now(), meta: encode(meta) }
    await plain.put(Tally.type, 'bad', damaged, undefined)
    const logs: string[] = []
    const parts = makeHost(aws, tableName, [Tally], { stream: output }, { clock, logger: createLogger('warn', {}, (l) => void logs.push(l)) })
    const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
    const sent = await producer.send([message(Tally.type, 'bad', { key: 'bad', n: 0 }), message(Tally.type, 'good', { key: 'good', n: 1 })])
    t.notOk(sent.failed)
    const [batch] = await readBatches(aws.kinesis, input)
    const result = await parts.host.handle(batch!)
    t.equal(result.failedFrom, batch!.records[0]!.sequenceNumber, 'the damaged item\'s record waits for redelivery')
    const good = await plain.get(Tally.type, 'good')
    t.same(good?.state ? decode<Seen>(good.state).seen : [], [1], 'the key beside it ran')
    const refused = logs.map((l) => JSON.parse(l) as { msg: string; error?: string }).filter((l) => l.error?.includes('TROUPE_ITEM_UNREADABLE'))
    t.equal(refused.length, 1, 'one refusal logged')
    t.match(refused[0]?.error, `dm.tally#bad: its bookkeeping (m) is not as troupe writes it (${problem})`)
    const after = await plain.get(Tally.type, 'bad')
    t.equal(after?.version, 1, 'neither run nor overwritten')
    t.equal(after?.meta, damaged.meta)
  })
}
