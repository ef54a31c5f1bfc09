// A type's slots item (`running#<type>` / `slots`) changed by hand so that it refuses every take:
// troupe's own updates keep `used` the sum of the leases, so nothing of troupe's heals it, and the
// host must say which item holds the type's messages back and what to set, not wait in silence.
import t from 'tap'
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { createLogger } from '../../lib/core/logger.js'
import { decode } from '../../lib/core/serialization.js'
import { Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { DynamoDBTypeSlots, slotsKey } from '../../lib/store/dynamodb-type-slots.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches, wakeUp } from './fixtures/durable.js'

type In = { key: string; n: number }
type Seen = { seen: number[] }

const { aws } = await localStackFor(t)
let made = 0

function capped(policy: Record<string, number>) {
  return class Capped extends Actor<In, void, Seen> {
    static readonly type = `sd.cap${++made}`
    static readonly policy = policy
    key(m: In) {
      return m.key
    }
    initialState(): Seen {
      return { seen: [] }
    }
    async receive(m: In, ctx: Context<Seen>) {
      await Promise.resolve()
      ctx.state.seen.push(m.n)
    }
  }
}

async function scenario(A: ReturnType<typeof capped>, before?: (tableName: string) => Promise<void>) {
  const tableName = `sd-cap-${made}`
  await createTable(aws.dynamodb, tableName)
  await before?.(tableName)
  const input = await createStream(aws.kinesis, 1, `${tableName}-in`)
  const output = await createStream(aws.kinesis, 1, `${tableName}-out`)
  const clock = new SimulatedClock()
  const logs: string[] = []
  const logger = createLogger('warn', {}, (line: string) => void logs.push(line))
  const parts = makeHost(aws, tableName, [A], { stream: output }, { clock, logger, typeSlots: new DynamoDBTypeSlots({ client: aws.dynamodb, tableName }), random: () => 1 })
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const report = await producer.send([message(A.type, 'k', { key: 'k', n: 0 }), message(A.type, 'k', { key: 'k', n: 1 })])
  if (report.failed) throw new Error('could not fill the stream')
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName })
  const seen = async () => {
    const stored = await parts.state.get(A.type, 'k')
    return stored?.state ? (decode<Seen>(stored.state)?.seen ?? []) : []
  }
  /** Delivers the stream, then fires wake-ups as a timer runner would for `ms` of simulated time. */
  const run = async (ms: number) => {
    for (const b of await readBatches(aws.kinesis, input)) await parts.host.handle(b)
    for (let at = 0; at < ms && (await seen()).length < 2; at += 1_000) {
      await clock.advance(1_000)
      for (const timer of await timers.due(clock.now(), 100)) {
        const batch = await wakeUp(aws.kinesis, parts, producer, A.type, 'k')
        if (batch) await parts.host.handle(batch)
        await timers.delete(timer.id)
      }
    }
    return seen()
  }
  return { run, logs, tableName }
}

t.test('a slots item whose used counts more than its leases hold: the host names the item and what to set', async (t) => {
  const A = capped({ concurrency: 1, attemptTimeoutMs: 2_000 })
  // As an operator might leave it after deleting a stuck lease attribute by hand.
  const s = await scenario(A, (tableName) =>
    aws.dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: slotsKey(A.type), UpdateExpression: 'SET used = :one, #l = :one, t = :t', ExpressionAttributeNames: { '#l': 'limit' }, ExpressionAttributeValues: { ':one': { N: '1' }, ':t': { S: A.type } } })).then(() => undefined),
  )
  t.same(await s.run(10_000), [], 'nothing runs: the item says its one slot is used')
  const said = s.logs.filter((l) => l.includes(`the slots item of ${A.type} (running#${A.type}, slots) says 1 slots are used while its leases (h:…) hold 0`))
  t.ok(said.length !== 0 && said.length === s.logs.length, 'every warning names the item, what it says and what to set')
  t.match(said[0], 'its messages wait until used is set to 0')
})

t.test('a slots item whose used is a string: the host names the item', async (t) => {
  const A = capped({ concurrency: 1, attemptTimeoutMs: 2_000 })
  const s = await scenario(A, (tableName) =>
    aws.dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: slotsKey(A.type), UpdateExpression: 'SET used = :u', ExpressionAttributeValues: { ':u': { S: '0' } } })).then(() => undefined),
  )
  t.same(await s.run(10_000), [], 'nothing runs: every take is refused')
  const said = s.logs.filter((l) => l.includes(`the slots item of ${A.type} (running#${A.type}, slots) refused 5 takes in a row and holds no used as troupe writes it`))
  t.ok(said.length !== 0 && said.length === s.logs.length, 'every warning names the item')
})
