// A type capped at one turn at a time (`policy.concurrency: 1`) has one timer lane for all of its
// keys' wake-ups (aws-timers.ts `timerLanes`: a capped type has at most `concurrency` lanes). A
// lane used to stop at its first firing that failed, so one key whose wake-up cannot finish (its
// item damaged, refused by name as the host refuses it on the stream) kept every other key's
// wake-up behind it due, tick after tick: a quiet healthy key's parked messages waited for good.
// Now a failed firing keeps only its own instance's later timers behind it.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode, encode } from '../../lib/core/serialization.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { Router } from '../../lib/routing/router.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createLogger } from '../../lib/core/logger.js'
import { message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches } from './fixtures/durable.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { inOrder } from '../fixtures/actors.js'

type Seen = { seen: number[] }

class One extends inOrder('wlb.one') {
  static readonly policy = { concurrency: 1 }
}

const { aws } = await localStackFor(t)

t.test("one key's wake-up that cannot finish does not keep the other keys' wake-ups of its type from firing", async (t) => {
  const name = 'wlb-one'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const table = { client: aws.dynamodb, tableName: name }
  const clock = new SimulatedClock(Date.now())
  const slots = new DynamoDBTypeSlots(table)
  t.ok((await slots.take(One.type, { holder: 'another-host', count: 1, expiresAt: clock.now() + 60_000 }, 1, [])).taken, 'another host holds the only slot')
  const parts = makeHost(aws, name, [One], { stream: name }, { clock, typeSlots: slots, random: () => 1, logger: createLogger('silent') })
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: name }), lingerMs: 0 })
  // 'bad' parks first (its wake-up is the earlier), then 'good'.
  let read = 0
  for (const k of ['bad', 'good']) {
    t.notOk((await producer.send([message(One.type, k, { k, n: 1 })])).failed)
    const [batch] = await readBatches(aws.kinesis, name)
    t.equal((await parts.host.handle({ ...batch!, records: batch!.records.slice(read) })).failedFrom, undefined)
    read = batch!.records.length
    await clock.advance(10)
  }
  const state = new DynamoDBStateStore(table)
  for (const k of ['bad', 'good']) t.equal(decodeMeta((await state.get(One.type, k))?.meta).parked?.length, 1, `${k} waits for the slot`)
  // The item of 'bad' is damaged by hand (as test/aws/damaged-meta.test.ts does): its host refuses it by name.
  const bad = (await state.get(One.type, 'bad'))!
  const meta = decode<Record<string, unknown>>(bad.meta!)
  await state.put(One.type, 'bad', { ...bad, meta: encode({ ...meta, recent: { a: 1 } }) }, bad.version)
  t.ok(await slots.release(One.type, 'another-host', 1), 'the slot is free again')

  // The scheduled tick (a Lambda's), a few times over.
  const tick = new AwsSystem({ actors: [One], ...aws, tableName: name, stream: name, clock, consume: false, timers: false, random: () => 1, logLevel: 'silent', lingerMs: 0 })
  t.teardown(() => tick.stop())
  for (let n = 0; n < 3; n++) {
    await clock.advance(5_000)
    await tick.fireDueTimers()
  }
  const good = await state.get(One.type, 'good')
  t.same(decode<Seen | undefined>(good!.state)?.seen ?? [], [1], "the healthy key's parked message ran")
  const due = await tick.timers()
  t.same(due.map((d) => decode<{ key: string }>(d.body).key), ['bad'], "the damaged key's wake-up stays due, and only it")
})
