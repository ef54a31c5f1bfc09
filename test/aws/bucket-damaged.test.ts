// A type's rate bucket item (`rate#<type>` / `bucket`) whose clock was changed by hand into a
// string meets neither of the claim's conditions: the host must say the item is damaged, not that
// other hosts kept moving its clock.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { decode } from '../../lib/core/serialization.js'
import { Router } from '../../lib/routing/router.js'
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { createLogger } from '../../lib/core/logger.js'
import { createTable, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { bucketKey, DynamoDBTypeBuckets } from '../../lib/store/dynamodb-type-buckets.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches, wakeUp } from './fixtures/durable.js'

type In = { site: string; n: number }
type Seen = { seen: number[] }

const RATE = 10

class Crawl extends Actor<In, void, Seen> {
  static readonly type = 'bd.crawl'
  static readonly policy = { throttle: { ratePerSecond: RATE, burst: RATE } }
  key(m: In) {
    return m.site
  }
  initialState(): Seen {
    return { seen: [] }
  }
  receive(m: In, ctx: Context<Seen>) {
    ctx.state.seen.push(m.n)
  }
}

const { aws } = await localStackFor(t)

t.test('a bucket item whose clock was changed by hand into a string: the host names the item and what to do', async (t) => {
  const tableName = 'bd-str'
  await createTable(aws.dynamodb, tableName)
  await aws.dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: bucketKey(Crawl.type), UpdateExpression: 'SET #c = :c', ExpressionAttributeNames: { '#c': 'clock' }, ExpressionAttributeValues: { ':c': { S: '1767225600000' } } }))
  const input = await createStream(aws.kinesis, 1, 'bd-str-in')
  const output = await createStream(aws.kinesis, 1, 'bd-str-out')
  const clock = new SimulatedClock()
  const table = { client: aws.dynamodb, tableName }
  const logs: string[] = []
  const host = makeHost(aws, tableName, [Crawl], { stream: output }, { clock, typeBuckets: new DynamoDBTypeBuckets(table), logger: createLogger('warn', {}, (l) => void logs.push(l)) })
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  t.notOk((await producer.send([message(Crawl.type, 'c.example', { site: 'c.example', n: 0 })])).failed)
  for (const b of await readBatches(aws.kinesis, input)) await host.host.handle(b)
  const timers = new DynamoDBTimerStore(table)
  const seen = async () => {
    const stored = await host.state.get(Crawl.type, 'c.example')
    return stored?.state ? (decode<Seen>(stored.state)?.seen ?? []) : []
  }
  for (let s = 0; s < 30 && (await seen()).length < 1; s++) {
    await clock.advance(1_000)
    for (const timer of await timers.due(clock.now(), 100)) {
      const batch = await wakeUp(aws.kinesis, host, producer, Crawl.type, 'c.example')
      if (batch) await host.host.handle(batch)
      await timers.delete(timer.id)
    }
  }
  t.same(await seen(), [], 'nothing ran: no token could be claimed')
  t.ok(logs.length !== 0, 'the host warned')
  t.ok(logs.every((l) => l.includes(`the rate bucket of ${Crawl.type} (rate#${Crawl.type}, bucket) refused 4 updates and holds no clock as troupe writes it`)), 'each warning names the damaged item, not clocks that kept moving')
})
