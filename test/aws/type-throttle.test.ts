// A type's rate (`policy.throttle` of a keyed or stateless actor) in the durable host, on the local
// Kinesis and DynamoDB with a simulated clock: eight hosts (Lambda environments) run the batches
// of a stream of two shards read four lanes each (ParallelizationFactor 4), and fire the
// throttle's wake-ups as they come due, several at once. The type's turns hold its rate within
// 10 % over a simulated minute, no message is lost or applied twice (hosts killed at their commits
// too), keys with little waiting are not starved by one with much, the bucket costs one
// UpdateItem per batch, and the backlog shows in inspect() and from the table.
import t from 'tap'
import { Actor, type ActorClass, type Context } from '../../lib/index.js'
import type { Envelope } from '../../lib/core/envelope.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { createLogger } from '../../lib/core/logger.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import type { DurableBatch } from '../../lib/hosts/durable/durable-host.js'
import { THROTTLE_WAKE, wakeTarget } from '../../lib/hosts/durable/instance-throttle.js'
import { clients } from '../../lib/local/local-stack.js'
import { laneOf } from '../../lib/local/mapping-lane.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'
import { partitionKeyOf, Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBStateStore, DynamoDBTimerStore, type DynamoDBStoreOptions } from '../../lib/store/dynamodb.js'
import { DynamoDBTypeBuckets } from '../../lib/store/dynamodb-type-buckets.js'
import { decode } from '../../lib/core/serialization.js'
import { STATELESS_SEEN } from '../../lib/hosts/durable/stateless-memory.js'
import type { StoredInstance } from '../../lib/store/index.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { makeHost, readBatches, type HostParts } from './fixtures/durable.js'

type In = { site: string; n: number }
type Seen = { runs: [n: number, at: number][] }

const RATE = 10 // turns per second, for the whole type
const BURST = 10
const HOSTS = 8
const LANES = 4
const BATCH = 100

const { stack, aws } = await localStackFor(t)

/** The actor and a clock it reads: each turn notes when it ran (state is effectively once). */
function crawler(clock: SimulatedClock, throttle: { ratePerSecond: number; burst: number }) {
  return class Fetch extends Actor<In, void, Seen> {
    static readonly type = 'tt.fetch'
    static readonly policy = { throttle }
    key(m: In) {
      return m.site
    }
    initialState(): Seen {
      return { runs: [] }
    }
    receive(m: In, ctx: Context<Seen>) {
      ctx.state.runs.push([m.n, clock.now()])
    }
  }
}

let made = 0

/**
 * A stream of two shards holding `sent`, its records dealt to four lanes per shard (by partition
 * key, as the event source mapping does) in batches of 100; eight hosts over one table, whose
 * DynamoDB requests are counted, sending what their turns send to a stream of its own.
 */
async function scenario(clock: SimulatedClock, actors: readonly ActorClass[], sent: readonly Envelope[], kills?: (table: DynamoDBStoreOptions) => DynamoDBStateStore) {
  const name = `tt-${++made}`
  await createTable(aws.dynamodb, name)
  const input = await createStream(aws.kinesis, 2, name)
  const output = await createStream(aws.kinesis, 1, `${name}-out`)
  // A record per message, so a batch of 100 records is 100 messages.
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0, aggregate: false })
  const report = await producer.send([...sent])
  if (report.failed) throw new Error('could not fill the input stream')
  // The hosts' own client, so the test's reads are not counted.
  const counted = clients(stack)
  t.teardown(() => {
    counted.dynamodb.destroy()
    counted.kinesis.destroy()
  })
  const requests = new RequestCounter()
  countRequests(counted.dynamodb, requests)
  const table = { client: counted.dynamodb, tableName: name }
  // One timer shard: the test reads the wake-ups often, and each read is a Query per shard. The
  // test reads through stores of its own, whose requests are not counted.
  const hostTimers = new DynamoDBTimerStore({ ...table, timerShards: 1 })
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName: name, timerShards: 1 })
  const reader = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  const hosts: HostParts[] = Array.from({ length: HOSTS }, () =>
    makeHost(counted, name, actors, { stream: output }, { clock, timers: hostTimers, typeBuckets: new DynamoDBTypeBuckets(table), ...(kills ? { state: kills(table), logger: createLogger('silent') } : {}) }),
  )
  const lanes: DurableBatch[][] = []
  for (const shard of await readBatches(aws.kinesis, input)) {
    const byLane: DurableBatch['records'][number][][] = Array.from({ length: LANES }, () => [])
    for (const r of shard.records) {
      const decoded = defaultRecordCodec.decodeAll(r.data)
      if (!decoded.ok) throw new Error(decoded.reason)
      byLane[laneOf(partitionKeyOf(decoded.envelopes[0]!, (type) => hosts[0]!.host.typeOf(type).kind !== 'stateless'), LANES)]!.push(r)
    }
    for (const records of byLane) {
      const batches: DurableBatch[] = []
      for (let i = 0; i < records.length; i += BATCH) batches.push({ stream: input, shardId: shard.shardId, records: records.slice(i, i + BATCH) })
      lanes.push(batches)
    }
  }
  let turn = 0
  const nextHost = () => hosts[turn++ % HOSTS]!
  /**
   * Every lane runs its batches in order, the lanes at once, each batch on the next host; a batch
   * left unfinished is delivered again from its first unfinished record, as the mapping does.
   */
  const runLanes = () =>
    Promise.all(
      lanes.map(async (batches) => {
        for (let b of batches) {
          for (let round = 0; ; round++) {
            const r = await nextHost().host.handle(b)
            if (r.failedFrom === undefined) break
            if (!kills || round === 50) throw new Error(`a batch of ${b.shardId} was left for redelivery from ${r.failedFrom}`)
            b = { ...b, records: b.records.filter((x) => BigInt(x.sequenceNumber) >= BigInt(r.failedFrom!)) }
          }
        }
      }),
    )
  /**
   * Moves time to the next wake-up and fires those due, as AwsTimers does, several at once on
   * different hosts. False when none is left.
   */
  const step = async () => {
    const next = await timers.next()
    if (next === undefined) return false
    if (next > clock.now()) await clock.advance(next - clock.now())
    const due = await timers.due(clock.now(), 100)
    let unfinished = false
    await Promise.all(
      due.map(async (timer) => {
        if (timer.target !== THROTTLE_WAKE) throw new Error(`unexpected timer for ${timer.target}`)
        const { type, key } = wakeTarget(timer)
        // A wake-up that did not finish stays, and fires again (the timer runner looks again in 1 s).
        const ran = await nextHost().host.runWaiting(type, key, `flush-${timer.id}`, input).catch(() => false)
        if (!ran) {
          unfinished = true
          return
        }
        await timers.delete(timer.id)
      }),
    )
    if (unfinished) await clock.advance(1_000)
    return true
  }
  /** Runs wake-ups as they come due until none is left, or `maxMs` of simulated time passed. */
  const drain = async (maxMs: number) => {
    const start = clock.now()
    while (clock.now() - start < maxMs && (await step()));
  }
  return { name, hosts, runLanes, drain, requests, batches: lanes.flat().length, timers, reader, output, nextHost }
}

/** `perSite[site]` messages to each site, numbered from 0. */
function sitesMessages(type: string, perSite: Record<string, number>): Envelope[] {
  return Object.entries(perSite).flatMap(([site, count]) => Array.from({ length: count }, (_, n) => message(type, site, { site, n })))
}

/** What each site's instance noted of its turns. */
async function statesOf(reader: DynamoDBStateStore, type: string, perSite: Record<string, number>): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>()
  for (const site of Object.keys(perSite)) {
    const stored = await reader.get(type, site)
    // A site whose messages all wait has an item but no state yet.
    out.set(site, (stored && decode<Seen | undefined>(stored.state)) ?? { runs: [] })
  }
  return out
}

/** The hosts' requests per message, by API, for the log. */
function perMessage(requests: RequestCounter, messages: number): string {
  return Object.entries(requests.snapshot().byApi)
    .map(([api, c]) => `${api} ${(c.requests / messages).toFixed(3)}`)
    .join(', ')
}

/** Turns whose time falls in [from, to). */
function turnsBetween(states: Map<string, Seen>, from: number, to: number): number {
  let n = 0
  for (const s of states.values()) for (const [, at] of s.runs) if (at >= from && at < to) n++
  return n
}

t.test('a hot site and many quiet ones under one rate: the rate holds within 10 %, none lost, none twice, the quiet ones not starved', async (t) => {
  const perSite: Record<string, number> = { 'hot.example': 600 }
  for (let i = 0; i < 40; i++) perSite[`quiet-${i}.example`] = 10
  const clock = new SimulatedClock()
  const Fetch = crawler(clock, { ratePerSecond: RATE, burst: BURST })
  const s = await scenario(clock, [Fetch], sitesMessages(Fetch.type, perSite))
  const start = clock.now()
  await s.runLanes()
  await s.drain(300_000)
  const states = await statesOf(s.reader, Fetch.type, perSite)
  for (const [site, seen] of states) {
    t.same(
      seen.runs.map(([n]) => n),
      Array.from({ length: perSite[site]! }, (_, n) => n),
      `${site}: every message once, in order`,
    )
  }
  // The backlog outlasts the minute, so the type runs as fast as its rate lets it.
  const minute = turnsBetween(states, start, start + 60_000)
  const allowed = BURST + RATE * 60
  t.ok(minute <= allowed, `${minute} turns in the first simulated minute, at most burst + rate × 60 s = ${allowed}`)
  t.ok(minute >= 0.9 * RATE * 60, `and at least 90 % of rate × 60 s (${0.9 * RATE * 60})`)
  for (const second of [0, 10, 30, 59]) {
    const inSecond = turnsBetween(states, start + second * 1000, start + (second + 1) * 1000)
    t.ok(inSecond <= BURST + RATE, `second ${second}: ${inSecond} turns, at most burst + rate`)
  }
  // Fairness: the quiet sites share the tokens with the hot one in turn, so each is done long
  // before the hot one, within about its share of the line.
  const quietDone = Math.max(...[...states].filter(([site]) => site.startsWith('quiet')).map(([, seen]) => seen.runs.at(-1)![1])) - start
  const hotBefore = states.get('hot.example')!.runs.filter(([, at]) => at - start <= quietDone).length
  t.ok(quietDone <= ((400 + 4 * BURST) / RATE) * 1000, `the quiet sites were all done after ${quietDone} ms, within their 400 turns and a few of the hot site's shares`)
  t.ok(hotBefore <= 6 * BURST, `meanwhile the hot site ran ${hotBefore} turns, no more than a few shares`)
  t.same(await s.timers.list(), [], 'no wake-up left behind')
  t.comment(`requests per message, the rate holding ${total(perSite)} messages back for ${((clock.now() - start) / 1000).toFixed(0)} s: ${perMessage(s.requests, total(perSite))}`)
})

/** How many messages `perSite` makes. */
function total(perSite: Record<string, number>): number {
  return Object.values(perSite).reduce((a, b) => a + b, 0)
}

t.test('the rate costs one UpdateItem per batch when it does not hold messages back', async (t) => {
  const perSite: Record<string, number> = {}
  for (let i = 0; i < 100; i++) perSite[`site-${i}.example`] = 20
  const clock = new SimulatedClock()
  const Fetch = crawler(clock, { ratePerSecond: 100_000, burst: 100_000 })
  const sent = sitesMessages(Fetch.type, perSite)
  const s = await scenario(clock, [Fetch], sent)
  await s.runLanes()
  t.equal(turnsBetween(await statesOf(s.reader, Fetch.type, perSite), 0, Infinity), sent.length, 'every message ran at once')
  t.same(await s.timers.list(), [], 'none waited')
  const updates = s.requests.requests('DynamoDB.UpdateItem')
  const perMessage = updates / sent.length
  t.comment(`${updates} UpdateItems for ${s.batches} batches of at most ${BATCH} (${sent.length} messages): ${perMessage.toFixed(4)} per message; all requests: ${JSON.stringify(Object.fromEntries(Object.entries(s.requests.snapshot().byApi).map(([api, c]) => [api, c.requests])))}`)
  t.ok(updates <= s.batches, 'one claim per batch')
  t.ok(perMessage <= 0.02, `${perMessage.toFixed(4)} writes per message for the bucket, at most 0.02`)
})

t.test('stateless messages under one rate: the rate holds, each runs once, and what a waiting one sends goes out', async (t) => {
  const clock = new SimulatedClock()
  const ran: [n: number, at: number][] = []
  class Tally extends Actor<{ n: number }, void, { n: number[] }> {
    static readonly type = 'tt.tally'
    key(m: { n: number }) {
      return String(m.n % 10)
    }
    initialState() {
      return { n: [] }
    }
    receive(m: { n: number }, ctx: Context<{ n: number[] }>) {
      ctx.state.n.push(m.n)
    }
  }
  class Ping extends Actor<{ n: number }> {
    static readonly type = 'tt.ping'
    static readonly policy = { throttle: { ratePerSecond: RATE, burst: BURST } }
    receive(m: { n: number }, ctx: Context) {
      ran.push([m.n, clock.now()])
      ctx.tell(Tally, { n: m.n })
    }
  }
  const N = 300
  const sent = Array.from({ length: N }, (_, n) => message(Ping.type, '', { n }))
  const s = await scenario(clock, [Ping, Tally], sent)
  const start = clock.now()
  await s.runLanes()
  t.equal(ran.length, BURST, `the burst ran at once (${BURST}); the rest wait, each in an item of its own`)
  const waiting = (await new TableInspector({ dynamodb: aws.dynamodb, tableName: s.name }).actors()).find((a) => a.type === Ping.type)
  t.match(waiting, { parked: N - BURST, instances: 0 }, 'from the table: parked messages, not instances')
  await s.drain(120_000)
  t.same(
    ran.map(([n]) => n).sort((a, b) => a - b),
    Array.from({ length: N }, (_, n) => n),
    'every message ran once',
  )
  const total = turnsIn(ran, start, start + 20_000)
  t.ok(total <= BURST + RATE * 20, `${total} turns in the first 20 s, at most burst + rate × 20 s (${BURST + RATE * 20})`)
  t.ok(total >= 0.9 * RATE * 20, `and at least 90 % of rate × 20 s (${0.9 * RATE * 20})`)

  // What the waiting ones sent waits in their items until their flush records are read.
  const out = await readStream(s.output)
  const flushes = out.filter((r) => r.envelopes.every((e) => e.control === 'flush'))
  t.equal(flushes.length, N - BURST, 'a flush record for each message that waited')
  const r = await s.nextHost().host.handle({ stream: s.output, shardId: flushes[0]!.shardId, records: flushes.map((f) => ({ sequenceNumber: f.sequenceNumber, data: f.data })) })
  t.equal(r.failedFrom, undefined)
  const tallies = (await readStream(s.output)).flatMap((x) => x.envelopes).filter((e) => e.type === Tally.type)
  t.same(
    tallies.map((e) => (e.body as { n: number }).n).sort((a, b) => a - b),
    Array.from({ length: N }, (_, n) => n),
    'each message’s tell went out once',
  )
  t.same(await s.timers.list(), [], 'no wake-up left behind')
  t.comment(`requests per message, ${N - BURST} of ${N} waiting in items of their own: ${perMessage(s.requests, N)}`)
})

/** Turns whose time falls in [from, to). */
function turnsIn(ran: readonly [number, number][], from: number, to: number): number {
  return ran.filter(([, at]) => at >= from && at < to).length
}

/** Every record of a one-shard stream, decoded. */
async function readStream(stream: string): Promise<{ shardId: string; sequenceNumber: string; data: Uint8Array; envelopes: Envelope[] }[]> {
  const out = []
  for (const batch of await readBatches(aws.kinesis, stream)) {
    for (const r of batch.records) {
      const decoded = defaultRecordCodec.decodeAll(r.data)
      if (!decoded.ok) throw new Error(decoded.reason)
      out.push({ shardId: batch.shardId, sequenceNumber: r.sequenceNumber, data: r.data as Uint8Array, envelopes: decoded.envelopes })
    }
  }
  return out
}

t.test('a batch that parked stateless messages and died before keeping its memory: delivered again, the parked ones are copies', async (t) => {
  const clock = new SimulatedClock()
  const ran: number[] = []
  class Ping extends Actor<{ n: number }> {
    static readonly type = 'tt.ping2'
    static readonly policy = { throttle: { ratePerSecond: RATE, burst: BURST } }
    receive(m: { n: number }) {
      ran.push(m.n)
    }
  }
  const name = `tt-${++made}`
  await createTable(aws.dynamodb, name)
  const input = await createStream(aws.kinesis, 1, name)
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0, aggregate: false })
  const N = 30
  // With origins, as a system's tells carry them: the shard's memory knows them again.
  await producer.send(Array.from({ length: N }, (_, n) => ({ ...message(Ping.type, '', { n }), origin: { lane: 'p:test', pos: String(n + 1), i: 0, fence: '0' } })))
  const [all] = await readBatches(aws.kinesis, input)
  // The burst in a batch of its own, then the rest, which find no token and are parked.
  const burst = { ...all!, records: all!.records.slice(0, BURST) }
  const rest = { ...all!, records: all!.records.slice(BURST) }
  const table = { client: aws.dynamodb, tableName: name }
  // The first host dies before the second batch's memory is kept: the third write of the shard's
  // memory (after the first batch's, and the second's note that it parks) fails.
  let memoryWrites = 0
  class Dying extends DynamoDBStateStore {
    override async put(type: string, key: string, value: StoredInstance, expected: number | undefined, expectedUpdatedAt?: number) {
      if (type === STATELESS_SEEN && ++memoryWrites === 3) throw new Error('the host died')
      return super.put(type, key, value, expected, expectedUpdatedAt)
    }
  }
  const buckets = new DynamoDBTypeBuckets(table)
  const first = makeHost(aws, name, [Ping], { stream: input }, { clock, state: new Dying(table), typeBuckets: buckets })
  t.equal((await first.host.handle(burst)).failedFrom, undefined)
  t.equal(ran.length, BURST, 'the burst ran')
  t.equal((await first.host.handle(rest)).failedFrom, rest.records[0]!.sequenceNumber, 'the second batch is left for redelivery')
  t.equal(ran.length, BURST, 'its messages were parked, each in its waiting item')
  // Long after, the bucket is full again: were the parked ones not known, some would now run at once as well.
  await clock.advance(60_000)
  const next = makeHost(aws, name, [Ping], { stream: input }, { clock, typeBuckets: buckets })
  const r2 = await next.host.handle(rest)
  t.equal(r2.failedFrom, undefined)
  t.equal(r2.duplicates, N - BURST, 'the parked ones are known as copies by their waiting items')
  t.equal(ran.length, BURST, 'and none ran')
  const timers = new DynamoDBTimerStore(table)
  for (const timer of await timers.due(clock.now(), 100)) {
    const { type, key } = wakeTarget(timer)
    t.ok(await next.host.runWaiting(type, key, `flush-${timer.id}`, input))
    await timers.delete(timer.id)
  }
  const counts = new Map<number, number>()
  for (const n of ran) counts.set(n, (counts.get(n) ?? 0) + 1)
  t.same([...counts].filter(([, c]) => c !== 1), [], 'every message ran once')
  t.equal(counts.size, N, 'every message ran')
})

t.test('the backlog in sight: parked messages, the oldest of them and the iteratorAge, in inspect() and from the table', async (t) => {
  class Slow extends Actor<{ n: number }, void, { n: number[] }> {
    static readonly type = 'tt.slow'
    // Two at once, then one every ten seconds: the rest stay parked for the whole test.
    static readonly policy = { throttle: { ratePerSecond: 0.1, burst: 2 } }
    key() {
      return 'only'
    }
    initialState() {
      return { n: [] as number[] }
    }
    receive(m: { n: number }, ctx: Context<{ n: number[] }>) {
      ctx.state.n.push(m.n)
    }
  }
  const name = `tt-${++made}`
  const system = new AwsSystem({ actors: [Slow], ...aws, tableName: name, stream: name, pollMs: 20, timerTickMs: 50, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const sentAt: number[] = []
  for (let n = 0; n < 10; n++) {
    sentAt.push(Date.now())
    await system.tell(Slow, { n })
  }
  const row = () => system.inspect().actors.find((a) => a.type === Slow.type)!
  // Waits for the batch to be run, looking at what the system says: each look is a check, not a pause relied on.
  const until = Date.now() + 30_000
  while (row().parked !== 8 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(row().parked, 8, 'inspect(): eight wait for a token')
  t.ok(row().oldestParkedAt! >= sentAt[2]! - 5 && row().oldestParkedAt! <= sentAt[2]! + 1_000, 'and the oldest of them is the third message sent')
  t.equal(typeof system.inspect().iteratorAgeMs, 'number', 'how far behind the stream is read')
  const fromTable = (await new TableInspector({ dynamodb: aws.dynamodb, tableName: name }).actors()).find((a) => a.type === Slow.type)!
  t.equal(fromTable.parked, 8, 'troupe inspect actors counts them from the table')
  t.equal(fromTable.oldestParkedAt, row().oldestParkedAt)
  t.equal(fromTable.instances, 1)
})

t.test('hosts killed at their commits, before and after the write: the rate holds, no message lost or applied twice', async (t) => {
  const perSite: Record<string, number> = {}
  for (let i = 0; i < 20; i++) perSite[`site-${i}.example`] = 15
  const clock = new SimulatedClock()
  const Fetch = crawler(clock, { ratePerSecond: RATE, burst: BURST })
  // One commit of the sites' in ten dies before its write, one in ten after it (the answer lost).
  let seed = 11
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  let killed = 0
  class Killed extends DynamoDBStateStore {
    override async put(type: string, key: string, value: StoredInstance, expected: number | undefined, expectedUpdatedAt?: number) {
      const roll = type === Fetch.type ? random() : 1
      if (roll < 0.1) {
        killed++
        throw new Error('the host was killed before its commit')
      }
      await super.put(type, key, value, expected, expectedUpdatedAt)
      if (roll < 0.2) {
        killed++
        throw new Error('the host was killed after its commit')
      }
    }
  }
  const s = await scenario(clock, [Fetch], sitesMessages(Fetch.type, perSite), (table) => new Killed(table))
  const start = clock.now()
  await s.runLanes()
  await s.drain(600_000)
  const states = await statesOf(s.reader, Fetch.type, perSite)
  for (const [site, seen] of states) {
    t.same(seen.runs.map(([n]) => n), Array.from({ length: perSite[site]! }, (_, n) => n), `${site}: every message once, in order`)
  }
  t.ok(killed >= 10, `${killed} commits killed`)
  const all = [...states.values()].flatMap((x) => x.runs.map(([, at]) => at)).sort((a, b) => a - b)
  for (const spanMs of [1_000, 10_000]) {
    let worst = 0
    for (let i = 0, j = 0; i < all.length; i++) {
      while (all[i]! - all[j]! >= spanMs) j++
      worst = Math.max(worst, i - j + 1)
    }
    t.ok(worst <= BURST + (RATE * spanMs) / 1000, `at most ${worst} turns within ${spanMs} ms: no more than burst + rate × time`)
  }
  t.comment(`${all.length} turns over ${((all.at(-1)! - start) / 1000).toFixed(1)} s (tokens of killed runs are lost, never given twice)`)
  t.same(await s.timers.list(), [], 'no wake-up left behind')
})
