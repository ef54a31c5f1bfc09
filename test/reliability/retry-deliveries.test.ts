// A message whose retry waits past its batch's deadline, keyed or stateless (a RetryableError asking for a
// second and a half, a Lambda with a second left) leaves its record for the next delivery, as a
// stateful one does; its failed attempts, and when the next may run, are kept in the shard's
// memory of stateless messages, so they go on from one delivery to the next, no sooner than the
// retry asks, and the message ends as its policy says (a dead letter after maxAttempts), instead
// of starting over each time and holding its shard for good. (A retry that waits longer than a
// few seconds parks its message instead: test/aws/retry-parking.test.ts.) Run through the durable
// host on memory stores, delivering again from the record it reports, as the mapping does.
import t from 'tap'
import { Actor } from '../../lib/core/actor.js'
import type { Context } from '../../lib/core/context.js'
import { wakeTarget } from '../../lib/hosts/durable/instance-throttle.js'
import type { AttemptRecord } from '../../lib/core/dead-letter.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import { RetryableError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { STATELESS_SEEN, StatelessMemory } from '../../lib/hosts/durable/stateless-memory.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { SendReport } from '../../lib/transport/kinesis.js'

const runs = new Map<string, number>()
/** How long the slow message's retry asks to wait; each delivery has less (DELIVERY_MS). */
const WAIT_MS = 1_500
const DELIVERY_MS = 1_000
/** When the slow message's attempts started. */
const attemptsAt: number[] = []

class Slow extends Actor<{ name: string }> {
  static readonly type = 'rel.slow'
  static readonly policy = { maxAttempts: 3 }
  receive(msg: { name: string }) {
    runs.set(msg.name, (runs.get(msg.name) ?? 0) + 1)
    if (msg.name === 'slow') attemptsAt.push(Date.now())
    if (msg.name === 'slow') throw new RetryableError('the service says: come back in a moment', { retryAfterMs: WAIT_MS })
  }
}

/** A keyed instance's message that fails like Slow's. */
const keyedAt: number[] = []
class SlowKeyed extends Actor<{ name: string }, void, { n: number }> {
  static readonly type = 'rel.slowKeyed'
  static readonly policy = { maxAttempts: 3 }
  key() {
    return 'k'
  }
  initialState() {
    return { n: 0 }
  }
  receive(_: { name: string }, ctx: Context<{ n: number }>) {
    keyedAt.push(Date.now())
    ctx.state.n++
    throw new RetryableError('the service says: come back in a moment', { retryAfterMs: WAIT_MS })
  }
}

/** Under its type's rate of one a second: its first run fails, asking for WAIT_MS; the attempt each run was, and when. */
const metered: { attempt: number; at: number }[] = []
class Metered extends Actor<{ name: string }> {
  static readonly type = 'rel.metered'
  static readonly policy = { maxAttempts: 3, throttle: { ratePerSecond: 1, burst: 1 } }
  receive(_: { name: string }, ctx: Context) {
    metered.push({ attempt: ctx.attempt, at: Date.now() })
    if (metered.length === 1) throw new RetryableError('the service says: come back in a moment', { retryAfterMs: WAIT_MS })
  }
}

const codec = new RecordCodec()
let n = 0
function record(name: string, type = Slow.type, key = ''): DurableRecord {
  n++
  const e: Envelope = makeEnvelope({ id: `m-${name}` as MessageId, type, key, body: { name }, correlationId: `m-${name}` as string as CorrelationId, sentAt: 1 })
  e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: '1' }
  return { sequenceNumber: String(1_000 + n), data: codec.encode(e), arrivedAt: 1_700_000_000_000 }
}

function makeHost() {
  const journal = new MemoryJournalStore()
  const state = new MemoryStateStore()
  const timers = new MemoryTimerStore()
  const host = new DurableHost({
    actors: [Slow, SlowKeyed, Metered],
    state,
    timers,
    journal,
    messages: { send: async (): Promise<SendReport> => ({ results: [], sent: 0, failed: 0 }) },
    logger: createLogger('silent' as never),
  })
  /** The shard's memory of stateless messages, as written. */
  const memory = async () => {
    const item = await state.get(STATELESS_SEEN, 'in/shardId-000000000000')
    return { bytes: Buffer.byteLength(item?.meta ?? ''), meta: decodeMeta(item?.meta) }
  }
  return { host, journal, memory, timers }
}

t.test('a stateless retry that waits past its deadline runs no sooner than asked, over deliveries, and ends after its attempts', async (t) => {
  const { host, journal, memory } = makeHost()
  const batch = [record('before'), record('slow'), record('after')]
  let from = 0
  let deliveries = 0
  while (deliveries < 20) {
    deliveries++
    const result = await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch.slice(from), deadline: Date.now() + DELIVERY_MS })
    if (result.failedFrom === undefined) break
    from = batch.findIndex((r) => r.sequenceNumber === result.failedFrom)
    t.equal(batch[from]?.sequenceNumber, batch[1]!.sequenceNumber, `delivery ${deliveries} stopped at the slow message`)
  }
  t.ok(deliveries < 20, `it ended, after ${deliveries} deliveries`)
  const letters = await journal.deadLetters()
  t.same(
    letters.map((l) => [l.envelope.id, l.attempts.length]),
    [['m-slow', 3]],
    'a dead letter with its three attempts',
  )
  t.equal(runs.get('slow'), 3, 'three attempts in all, however many deliveries')
  const gaps = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!)
  t.ok(
    gaps.every((gap) => gap >= WAIT_MS),
    `each attempt ran no sooner than ${WAIT_MS} ms after the one before (${gaps.join(', ')} ms)`,
  )
  t.ok(runs.get('after')! >= 1, `the message after it ran (${runs.get('after')} times: at least once, as a stateless message after an unfinished record is)`)
  t.equal((await memory()).meta.retrying, undefined, 'the memory keeps no attempts once it ended')
})

t.test('the attempts a shard keeps stay small, however many messages fail and whatever they say', async (t) => {
  const state = new MemoryStateStore()
  const attempt = (n: number): AttemptRecord => ({ attempt: n, startedAt: 1, endedAt: 2, error: { name: 'RetryableError', message: `the service is down: ${'x'.repeat(5_000)}`, stack: 'at somewhere\n'.repeat(200) } })
  for (let delivery = 1; delivery <= 4; delivery++) {
    const stored = await state.get(STATELESS_SEEN, 'in/shardId-000000000000')
    const memory = new StatelessMemory(state, 'in', 'in/shardId-000000000000', stored, { processMs: 60_000, shardMs: 60_000 }, () => 1_000, undefined)
    const retrying = Array.from({ length: 100 }, (_, k) => ({ id: `down-${k}`, attempts: [...(memory.retryOf(`down-${k}`)?.attempts ?? []), attempt(delivery)], retryAt: 5_000 }))
    t.ok(await memory.keep([], false, { retrying, ended: [] }), `delivery ${delivery}: kept`)
  }
  const item = await state.get(STATELESS_SEEN, 'in/shardId-000000000000')
  const bytes = Buffer.byteLength(item?.meta ?? '')
  const meta = decodeMeta(item?.meta)
  t.ok(bytes < 40 * 1024, `the memory item stays small (${bytes} bytes)`)
  t.ok(meta.retrying !== undefined && meta.retrying.length >= 1, `and keeps the attempts of some (${meta.retrying?.length})`)
  const [id, attempts, retryAt] = meta.retrying!.at(-1)!
  t.equal(id, 'down-99', 'the newest are kept')
  t.equal(attempts.length, 4, "the last one's four attempts")
  t.equal(retryAt, 5_000, 'and when its next may run')
  t.ok(attempts.every((a) => a.error.stack === undefined && a.error.message.length <= 256), 'each without its stack, its message cut')
})

t.test('a stateless message that failed and then waits for its type\'s token keeps its attempts and its retry time', async (t) => {
  const { host, journal, timers } = makeHost()
  const batch = [record('x', Metered.type)]
  // Deliveries as the mapping makes them until the shard moves on, then the wake-ups of its
  // waiting item as a timer runner fires them: armed for the earliest, at its due time.
  let movedOn = false
  for (let round = 0; round < 20 && metered.length < 2; round++) {
    if (!movedOn) movedOn = (await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch, deadline: Date.now() + DELIVERY_MS })).failedFrom === undefined
    const next = await timers.next()
    if (movedOn && next !== undefined && next > Date.now()) await new Promise((resolve) => setTimeout(resolve, next - Date.now()))
    for (const timer of await timers.due(Date.now(), 100)) {
      const { type, key } = wakeTarget(timer)
      if (await host.runWaiting(type, key, `flush-${timer.id}`, 'in', Date.now() + DELIVERY_MS)) await timers.delete(timer.id)
    }
  }
  t.same(
    metered.map((m) => m.attempt),
    [1, 2],
    'its second run is its second attempt',
  )
  const gap = metered[1]!.at - metered[0]!.at
  t.ok(gap >= WAIT_MS, `no sooner than its retry asked (${gap} ms after the first)`)
  t.same(await journal.deadLetters(), [], 'no dead letter')
})

t.test('a keyed message whose retry is not due when its record comes again waits, as far as the deadline allows, rather than hand it straight back', async (t) => {
  const { host, journal } = makeHost()
  const batch = [record('keyed', SlowKeyed.type, 'k')]
  let deliveries = 0
  while (deliveries < 20) {
    deliveries++
    const result = await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch, deadline: Date.now() + DELIVERY_MS })
    if (result.failedFrom === undefined) break
  }
  t.ok(deliveries <= 6, `it ended after ${deliveries} deliveries: each that came early waited out its time`)
  const gaps = keyedAt.slice(1).map((at, i) => at - keyedAt[i]!)
  t.ok(
    keyedAt.length === 3 && gaps.every((gap) => gap >= WAIT_MS),
    `three attempts, each no sooner than ${WAIT_MS} ms after the one before (${gaps.join(', ')} ms)`,
  )
  t.same(
    (await journal.deadLetters()).map((l) => [l.envelope.id, l.attempts.length]),
    [['m-keyed', 3]],
  )
})
