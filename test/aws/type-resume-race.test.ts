// A whole type resumed between a batch's read of its pause and that batch's commit: the resume's
// scan of the type's items comes before the commit and sees nothing held, so the commit's own
// flush record is what wakes the key (lib/hosts/durable/type-pause-check.ts). Without it, a quiet
// key's held message waited until another message for the key came.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { DurablePauses } from '../../lib/aws/pauses.js'
import type { Envelope } from '../../lib/core/envelope.js'
import { decode } from '../../lib/core/serialization.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import type { StoredInstance } from '../../lib/store/index.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches } from './fixtures/durable.js'

type In = { key: string; n: number }
type Seen = { seen: number[] }

class Held extends Actor<In, void, Seen> {
  static readonly type = 'rr.held'
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

async function setup(t: Test, name: string, resumeBeforeCommit: boolean) {
  const tableName = `rr-${name}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, `rr-${name}-in`)
  const output = await createStream(aws.kinesis, 1, `rr-${name}-out`)
  const clock = new SimulatedClock()
  const plain = new DynamoDBStateStore({ client: aws.dynamodb, tableName })
  const woken: Envelope[] = []
  const pauses = new DurablePauses(plain, async (e) => void woken.push(e), () => clock.now())
  await pauses.pause(Held.type, undefined)
  let resumed = false
  class ResumeBeforeCommit extends DynamoDBStateStore {
    override async put(type: string, key: string, value: StoredInstance, expected: number | undefined, at?: number): Promise<void> {
      if (resumeBeforeCommit && type === Held.type && !resumed) {
        resumed = true
        await pauses.resume(Held.type, undefined)
      }
      return super.put(type, key, value, expected, at)
    }
  }
  const parts = makeHost(aws, tableName, [Held], { stream: output }, { clock, state: new ResumeBeforeCommit({ client: aws.dynamodb, tableName }) })
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  t.notOk((await producer.send([message(Held.type, 'k', { key: 'k', n: 0 })])).failed)
  for (const b of await readBatches(aws.kinesis, input)) t.equal((await parts.host.handle(b)).failedFrom, undefined, 'the batch is done')
  const seen = async () => {
    const stored = await plain.get(Held.type, 'k')
    return { seen: stored?.state ? (decode<Seen | undefined>(stored.state)?.seen ?? []) : [], held: decodeMeta(stored?.meta).held?.length ?? 0 }
  }
  return { parts, output, pauses, woken, seen, resumed: () => resumed }
}

t.test('a type resumed while a batch that read it paused commits: the held message runs', async (t) => {
  const { parts, output, woken, seen, resumed } = await setup(t, 'race', true)
  t.ok(resumed(), 'the resume ran between the read and the commit')
  t.equal(woken.length, 0, "the resume's scan came before the commit and woke nothing")
  t.same(await seen(), { seen: [], held: 1 }, 'held by the batch that read the type paused')
  const sent = await readBatches(aws.kinesis, output)
  t.equal(sent.flatMap((b) => b.records).length, 1, 'the commit sent one flush record')
  for (const b of sent) t.equal((await parts.host.handle(b)).failedFrom, undefined)
  t.same(await seen(), { seen: [0], held: 0 }, 'its run read the type resumed and ran what was held')
})

t.test('a flush record read while the type is still paused holds it and sends nothing more; the resume wakes it', async (t) => {
  const { parts, output, pauses, woken, seen } = await setup(t, 'still', false)
  t.same(await seen(), { seen: [], held: 1 })
  const first = await readBatches(aws.kinesis, output)
  t.equal(first.flatMap((b) => b.records).length, 1, 'the holding commit sent one flush record')
  for (const b of first) t.equal((await parts.host.handle(b)).failedFrom, undefined)
  t.same(await seen(), { seen: [], held: 1 }, 'still paused: still held')
  t.equal((await readBatches(aws.kinesis, output)).flatMap((b) => b.records).length, 1, 'and no second flush record: nothing loops while paused')
  await pauses.resume(Held.type, undefined)
  t.equal(woken.length, 1, 'the resume found the held message and woke its key')
  for (const e of woken) await parts.host.handleDirect(e)
  t.same(await seen(), { seen: [0], held: 0 })
})

t.test('a paused type: only the commit that first leaves a key waiting sends a flush record', async (t) => {
  const tableName = 'rr-cost'
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'rr-cost-in')
  const output = await createStream(aws.kinesis, 1, 'rr-cost-out')
  const clock = new SimulatedClock()
  const plain = new DynamoDBStateStore({ client: aws.dynamodb, tableName })
  await new DurablePauses(plain, async () => {}, () => clock.now()).pause(Held.type, undefined)
  const parts = makeHost(aws, tableName, [Held], { stream: output }, { clock })
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  for (let n = 0; n < 3; n++) {
    t.notOk((await producer.send([message(Held.type, 'k', { key: 'k', n })])).failed)
    for (const b of await readBatches(aws.kinesis, input)) t.equal((await parts.host.handle(b)).failedFrom, undefined)
  }
  t.equal(decodeMeta((await plain.get(Held.type, 'k'))?.meta).held?.length, 3, 'three messages held, by three commits')
  // A resume's scan sees any item that already held something when a later batch read it.
  t.equal((await readBatches(aws.kinesis, output)).flatMap((b) => b.records).length, 1, 'one flush record, from the first')
})
