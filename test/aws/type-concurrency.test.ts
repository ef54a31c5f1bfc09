// A type's concurrency (`policy.concurrency`) in the durable host across hosts, on the local
// Kinesis and DynamoDB with a simulated clock: eight hosts (Lambda environments) run the batches of
// a stream of two shards read four lanes each (ParallelizationFactor 4) at once, and fire the
// wake-ups of what waits, several at once. Every turn notes when it starts and ends in one tracker
// per type, and waits for the type's other turns to come (so turns overlap as far as the cap lets
// them): the most at once is the cap, never more; every message is applied once, in order per key;
// those that found no slot waited parked, not dropped, half of the hosts keeping their leases
// between batches as shard consumers do. A host killed before it gave its slots back holds them only
// until its lease expires. The cap costs two UpdateItems per batch, or a claim per lane of batches
// where the host keeps its leases. Keys parked together wake at jittered times; a keyed actor
// without state that finds no slot waits as long before its message is left in the stream.
import t from 'tap'
import { Actor, type ActorClass, type Context } from '../../lib/index.js'
import type { Envelope } from '../../lib/core/envelope.js'
import type { TroupeEvent } from '../../lib/core/inspection.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { createLogger } from '../../lib/core/logger.js'
import { decode } from '../../lib/core/serialization.js'
import type { DurableBatch } from '../../lib/hosts/durable/durable-host.js'
import { THROTTLE_WAKE, wakeTarget } from '../../lib/hosts/durable/instance-throttle.js'
import { SLOT_RETRY_MS } from '../../lib/hosts/durable/type-lease.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { clients } from '../../lib/local/local-stack.js'
import { laneOf } from '../../lib/local/mapping-lane.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'
import { partitionKeyOf, Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBStateStore, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import type { TypeSlotStore } from '../../lib/store/index.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { makeHost, readBatches, type HostParts } from './fixtures/durable.js'

const HOSTS = 8
const LANES = 4
const BATCH = 100
/** How long a host that keeps leases (a shard consumer) keeps one after its batch. */
const KEEP_MS = 1_000

const { stack, aws } = await localStackFor(t)

/**
 * Turns of one type as they happen, across every host of the test (they share this process): how
 * many run now and the most that ever did. A turn waits until `cap` turns run (or a while passes,
 * when fewer are left), then works 5 ms: so turns overlap as far as the hosts let them.
 */
class Overlap {
  running = 0
  most = 0
  turns = 0
  private waiters: (() => void)[] = []

  constructor(private readonly cap: number) {}

  async turn(): Promise<void> {
    this.running++
    this.turns++
    this.most = Math.max(this.most, this.running)
    // Until the cap has been reached once, a turn holds on (up to a second of real time, so a busy
    // machine's slow hosts still meet) for the others; after that, only briefly.
    if (this.running >= this.cap) this.open()
    else await new Promise<void>((resolve) => {
      this.waiters.push(resolve)
      setTimeout(resolve, this.most >= this.cap ? 20 : 1_000)
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    this.running--
  }

  private open(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

type In = { key: string; n: number }
type Seen = { runs: [n: number, at: number][] }

/** A keyed actor under `concurrency` (none: no cap), its turns tracked by `overlap`. */
function worker(name: string, clock: SimulatedClock, overlap: Overlap, concurrency?: number) {
  return class Work extends Actor<In, void, Seen> {
    static readonly type = name
    static readonly policy = { attemptTimeoutMs: 2_000, ...(concurrency !== undefined ? { concurrency } : {}) }
    key(m: In) {
      return m.key
    }
    initialState(): Seen {
      return { runs: [] }
    }
    async receive(m: In, ctx: Context<Seen>) {
      await overlap.turn()
      ctx.state.runs.push([m.n, clock.now()])
    }
  }
}

let made = 0

/**
 * A stream of two shards holding `sent`, its records dealt to four lanes per shard (by partition
 * key, as the event source mapping does) in batches of 100; `hosts` hosts over one table, whose
 * DynamoDB requests are counted.
 */
async function scenario(
  clock: SimulatedClock,
  actors: readonly ActorClass[],
  sent: readonly Envelope[],
  options: { hosts?: number; shards?: number; slots?: (table: { client: typeof aws.dynamodb; tableName: string }, i: number) => TypeSlotStore; random?: () => number; keepSlotsMs?: (i: number) => number } = {},
) {
  const name = `tc-${++made}`
  await createTable(aws.dynamodb, name)
  const input = await createStream(aws.kinesis, options.shards ?? 2, name)
  const output = await createStream(aws.kinesis, 1, `${name}-out`)
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0, aggregate: false })
  const report = await producer.send([...sent])
  if (report.failed) throw new Error('could not fill the input stream')
  const counted = clients(stack)
  t.teardown(() => {
    counted.dynamodb.destroy()
    counted.kinesis.destroy()
  })
  const requests = new RequestCounter()
  countRequests(counted.dynamodb, requests)
  const table = { client: counted.dynamodb, tableName: name }
  const hostTimers = new DynamoDBTimerStore({ ...table, timerShards: 1 })
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName: name, timerShards: 1 })
  const reader = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  const events: TroupeEvent[] = []
  const hosts: HostParts[] = Array.from({ length: options.hosts ?? HOSTS }, (_, i) =>
    makeHost(counted, name, actors, { stream: output }, {
      clock,
      timers: hostTimers,
      typeSlots: options.slots?.(table, i) ?? new DynamoDBTypeSlots(table),
      logger: createLogger('silent'),
      onEvent: (e) => events.push(e),
      ...(options.random ? { random: options.random } : {}),
      ...(options.keepSlotsMs ? { keepSlotsMs: options.keepSlotsMs(i) } : {}),
    }),
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
      if (batches.length !== 0) lanes.push(batches)
    }
  }
  let turn = 0
  const nextHost = () => hosts[turn++ % hosts.length]!
  /** Every lane runs its batches in order, the lanes at once, each batch on the next host; a batch left unfinished is delivered again from there. */
  const runLanes = () =>
    Promise.all(
      lanes.map(async (batches) => {
        for (let b of batches) {
          for (let round = 0; ; round++) {
            const r = await nextHost().host.handle(b)
            if (r.failedFrom === undefined) break
            if (round === 20) throw new Error(`a batch of ${b.shardId} was left for redelivery from ${r.failedFrom}`)
            b = { ...b, records: b.records.filter((x) => BigInt(x.sequenceNumber) >= BigInt(r.failedFrom!)) }
          }
        }
      }),
    )
  /** Moves time to the next wake-up and fires those due, as AwsTimers does, several at once on different hosts (or on `on`). False when none is left. */
  const step = async (on?: HostParts) => {
    const next = await timers.next()
    if (next === undefined) return false
    if (next > clock.now()) await clock.advance(next - clock.now())
    const due = await timers.due(clock.now(), 100)
    let unfinished = false
    await Promise.all(
      due.map(async (timer) => {
        if (timer.target !== THROTTLE_WAKE) throw new Error(`unexpected timer for ${timer.target}`)
        const { type, key } = wakeTarget(timer)
        const ran = await (on ?? nextHost()).host.runWaiting(type, key, `flush-${timer.id}`, input).catch(() => false)
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
  return { name, hosts, runLanes, step, drain, requests, batches: lanes.flat().length, lanes: lanes.length, timers, reader, events, nextHost, input }
}

/** `perKey` messages to each of `keys` keys, numbered from 0. */
function keyedMessages(type: string, keys: number, perKey: number): Envelope[] {
  return Array.from({ length: keys }, (_, k) => Array.from({ length: perKey }, (_, n) => message(type, `k${k}`, { key: `k${k}`, n }))).flat()
}

/** What each key's instance noted of its turns. */
async function statesOf(reader: DynamoDBStateStore, type: string, keys: number): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>()
  for (let k = 0; k < keys; k++) {
    const stored = await reader.get(type, `k${k}`)
    out.set(`k${k}`, (stored && decode<Seen | undefined>(stored.state)) ?? { runs: [] })
  }
  return out
}

t.test('eight hosts at once, a keyed type capped at 3 and a stateless one at 2: never more at once, the cap used, every message once, in order', async (t) => {
  const clock = new SimulatedClock()
  const KEYS = 48
  const PER_KEY = 4
  const keyed = new Overlap(3)
  const Work = worker('tc.work', clock, keyed, 3)
  const stateless = new Overlap(2)
  const pinged: number[] = []
  class Ping extends Actor<{ n: number }> {
    static readonly type = 'tc.ping'
    static readonly policy = { concurrency: 2, attemptTimeoutMs: 2_000 }
    async receive(m: { n: number }) {
      await stateless.turn()
      pinged.push(m.n)
    }
  }
  const PINGS = 40
  const sent = [...keyedMessages(Work.type, KEYS, PER_KEY), ...Array.from({ length: PINGS }, (_, n) => message(Ping.type, '', { n }))]
  // Half the hosts keep their leases between batches, as shard consumers do; the others give them back at once, as Lambda environments do.
  const s = await scenario(clock, [Work, Ping], sent, { keepSlotsMs: (i) => (i % 2 === 0 ? 0 : KEEP_MS) })
  await s.runLanes()
  const batchUpdates = s.requests.requests('DynamoDB.UpdateItem')
  const batchReads = s.requests.requests('DynamoDB.GetItem')
  const waiting = (await new TableInspector({ dynamodb: aws.dynamodb, tableName: s.name }).actors()).filter((a) => a.parked !== undefined)
  t.ok(waiting.length !== 0, `after the batches, messages that found no slot wait parked: ${waiting.map((a) => `${a.type} ${a.parked}`).join(', ')}`)
  const throttled = s.events.filter((e) => e.type === '@troupe.throttled')
  t.ok(throttled.length !== 0, `${throttled.length} @troupe.throttled events for them`)
  await s.drain(600_000)
  const states = await statesOf(s.reader, Work.type, KEYS)
  let inOrder = 0
  for (const seen of states.values()) if (JSON.stringify(seen.runs.map(([n]) => n)) === JSON.stringify(Array.from({ length: PER_KEY }, (_, n) => n))) inOrder++
  t.equal(inOrder, KEYS, 'every key applied each of its messages once, in order')
  t.same([...pinged].sort((a, b) => a - b), Array.from({ length: PINGS }, (_, n) => n), 'every stateless message ran once')
  t.equal(keyed.turns, KEYS * PER_KEY, 'no turn of the keyed type ran twice (none lost a commit)')
  t.ok(keyed.most <= 3, `the keyed type ran at most ${keyed.most} turns at once: no more than its concurrency (3)`)
  t.equal(keyed.most, 3, 'and the load reached the cap')
  t.ok(stateless.most <= 2, `the stateless type ran at most ${stateless.most} at once: no more than its concurrency (2)`)
  t.equal(stateless.most, 2, 'and the load reached the cap')
  t.same(await s.timers.list(), [], 'no wake-up left behind')
  // The hosts stop: those that keep leases give back what they kept.
  await Promise.all(s.hosts.map((h) => h.host.releaseSlots()))
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: s.name })
  t.equal((await slots.read(Work.type))?.used, 0, 'every slot given back')
  t.equal((await slots.read(Ping.type))?.used, 0)
  const byApi = Object.fromEntries(Object.entries(s.requests.snapshot().byApi).map(([api, c]) => [api, c.requests]))
  t.comment(`the ${s.batches} batches (each with one or both capped types) claimed and gave back with ${batchUpdates} UpdateItems and ${batchReads} GetItems`)
  const wakes = s.events.filter((e) => e.type === '@troupe.throttled').length
  t.comment(`then the wake-ups, ${sent.length} messages in all, the cap holding most back (${wakes} parkings): ${JSON.stringify(byApi)}`)
})

t.test('the same load without a cap runs more than 3 at once (what the test above would see if the cap did not hold)', async (t) => {
  const clock = new SimulatedClock()
  const free = new Overlap(64)
  const Work = worker('tc.free', clock, free)
  const s = await scenario(clock, [Work], keyedMessages(Work.type, 48, 4))
  await s.runLanes()
  t.ok(free.most > 3, `${free.most} turns at once`)
  t.equal(free.turns, 48 * 4)
})

t.test('the cap costs two UpdateItems per batch when it holds nothing back', async (t) => {
  const clock = new SimulatedClock()
  const overlap = new Overlap(1)
  const Work = worker('tc.cheap', clock, overlap, 1_000)
  const sent = keyedMessages(Work.type, 100, 20)
  const s = await scenario(clock, [Work], sent)
  await s.runLanes()
  const states = await statesOf(s.reader, Work.type, 100)
  t.equal([...states.values()].reduce((n, x) => n + x.runs.length, 0), sent.length, 'every message ran at once')
  t.same(await s.timers.list(), [], 'none waited')
  const updates = s.requests.requests('DynamoDB.UpdateItem')
  t.comment(`${updates} UpdateItems for ${s.batches} batches of at most ${BATCH} (${sent.length} messages): ${(updates / s.batches).toFixed(2)} per batch, ${(updates / sent.length).toFixed(4)} per message`)
  t.equal(updates, 2 * s.batches, 'a claim and a release per batch')
  t.equal(s.requests.requests('DynamoDB.GetItem'), 0, 'and no read: the claims were never short')
})

t.test('a host that keeps its leases (a shard consumer): one claim per lane of batches, given back once idle', async (t) => {
  const clock = new SimulatedClock()
  const overlap = new Overlap(1)
  const Work = worker('tc.kept', clock, overlap, 1_000)
  const sent = keyedMessages(Work.type, 100, 20)
  const s = await scenario(clock, [Work], sent, { hosts: 1, keepSlotsMs: () => KEEP_MS })
  await s.runLanes()
  const states = await statesOf(s.reader, Work.type, 100)
  t.equal([...states.values()].reduce((n, x) => n + x.runs.length, 0), sent.length, 'every message ran at once')
  const claims = s.requests.requests('DynamoDB.UpdateItem')
  t.comment(`${claims} UpdateItems for ${s.batches} batches in ${s.lanes} lanes (${sent.length} messages), before the idle leases are given back`)
  t.ok(claims <= s.lanes, `at most one claim per lane: a lane's next batch took on the lease its last one kept (${claims} for ${s.batches} batches)`)
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: s.name })
  t.ok(((await slots.read(Work.type))?.used ?? 0) > 0, 'the leases are kept while the host may have a next batch')
  // KEEP_MS of simulated time with no batch: each kept lease is given back; the host's stop waits for those under way.
  await clock.advance(KEEP_MS)
  await Promise.all(s.hosts.map((h) => h.host.releaseSlots()))
  t.equal((await slots.read(Work.type))?.used, 0, 'given back once idle')
  const updates = s.requests.requests('DynamoDB.UpdateItem')
  t.ok(updates <= 2 * claims, `each lease given back once: ${updates} UpdateItems in all, ${(updates / sent.length).toFixed(4)} per message against ${((2 * s.batches) / sent.length).toFixed(4)} when each batch claims and gives back`)
})

t.test("keys parked for want of a slot wake at jittered times, drawn from the host's random", async (t) => {
  const clock = new SimulatedClock()
  const Work = worker('tc.jitter', clock, new Overlap(1), 1)
  const draws = [0.1, 0.35, 0.6, 0.85]
  let drawn = 0
  const s = await scenario(clock, [Work], keyedMessages(Work.type, 4, 1), { hosts: 1, shards: 1, random: () => draws[drawn++ % draws.length]! })
  // Another host holds the only slot, for a minute.
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: s.name })
  t.ok((await slots.take(Work.type, { holder: 'elsewhere', count: 1, expiresAt: clock.now() + 60_000 }, 1, [])).taken)
  const parkedAt = clock.now()
  await s.runLanes()
  const waits = (await s.timers.list()).map((x) => x.dueAt - parkedAt).sort((a, b) => a - b)
  t.same(waits, draws.map((d) => Math.round(d * SLOT_RETRY_MS)), `the four keys parked together wake ${waits.join(', ')} ms on, each a draw of its own, not all at once`)
})

t.test('a keyed actor without state that finds no slot: its batch waits a jittered while, then leaves the message in the stream; nothing lost', async (t) => {
  const clock = new SimulatedClock()
  const ran: number[] = []
  class Notify extends Actor<In> {
    static readonly type = 'tc.notify'
    static readonly policy = { concurrency: 1, attemptTimeoutMs: 2_000 }
    key(m: In) {
      return m.key
    }
    receive(m: In) {
      ran.push(m.n)
    }
  }
  const s = await scenario(clock, [Notify], keyedMessages(Notify.type, 1, 2), { hosts: 1, shards: 1, random: () => 1 })
  const [host] = s.hosts as [HostParts]
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: s.name })
  t.ok((await slots.take(Notify.type, { holder: 'elsewhere', count: 1, expiresAt: clock.now() + 60_000 }, 1, [])).taken, 'another host holds the only slot')
  const [batch] = await readBatches(aws.kinesis, s.input)
  let result: Awaited<ReturnType<typeof host.host.handle>> | undefined
  const handled = host.host.handle(batch!).then((r) => (result = r))
  // Until the batch has set its wait (a timer on the host's clock), or ended without one.
  while (clock.pending === 0 && result === undefined) await new Promise((resolve) => setImmediate(resolve))
  t.equal(result, undefined, 'the batch does not end at once (a Lambda would be invoked again with it straight away)')
  await clock.advance(SLOT_RETRY_MS - 1)
  t.equal(result, undefined, `it waits the drawn wait (random 1: ${SLOT_RETRY_MS} ms)`)
  await clock.advance(1)
  await handled
  t.equal(result!.failedFrom, batch!.records[0]!.sequenceNumber, 'then leaves its records in the stream, from the first')
  t.same(ran, [], 'none ran')
  t.same(await s.timers.list(), [], 'nothing parked: it has no item to wait in')
  await slots.release(Notify.type, 'elsewhere', 1)
  const again = await host.host.handle(batch!)
  t.equal(again.failedFrom, undefined, 'delivered again once the slot is free, the batch finishes')
  t.same([...ran].sort(), [0, 1], 'and each message ran once')
})

t.test('a host killed before it gave its slots back: they come back when its lease expires, and what waited then runs', async (t) => {
  const clock = new SimulatedClock()
  const overlap = new Overlap(1)
  const Work = worker('tc.killed', clock, overlap, 2)
  // The first host's releases and renewals never arrive: it died after its claim.
  class Killed extends DynamoDBTypeSlots {
    override async release(): Promise<undefined> {
      throw new Error('the host was killed')
    }
    override async renew(): Promise<boolean> {
      throw new Error('the host was killed')
    }
  }
  const KEYS = 6
  const s = await scenario(clock, [Work], keyedMessages(Work.type, KEYS, 3), {
    hosts: 2,
    shards: 1,
    slots: (table, i) => (i === 0 ? new Killed(table) : new DynamoDBTypeSlots(table)),
    // Every wait for a slot is its longest (SLOT_RETRY_MS), so the test knows when the wake-ups come.
    random: () => 1,
  })
  const [dead, live] = s.hosts as [HostParts, HostParts]
  const [shard] = await readBatches(aws.kinesis, s.input)
  const batchOf = (keys: string[]): DurableBatch => ({
    ...shard!,
    records: shard!.records.filter((r) => {
      const decoded = defaultRecordCodec.decodeAll(r.data)
      return decoded.ok && keys.includes(decoded.envelopes[0]!.key)
    }),
  })
  const killedAt = clock.now()
  t.equal((await dead.host.handle(batchOf(['k0', 'k1']))).failedFrom, undefined, 'the dead host ran its batch (two keys, both slots), and could not give them back')
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: s.name })
  const held = await slots.read(Work.type)
  t.equal(held?.used, 2, 'its lease still holds both slots')
  const expiresAt = held!.leases[0]!.expiresAt
  t.equal(expiresAt, killedAt + 12_000, 'until the attempt timeout (2 s) and the margin (10 s) have passed')
  const waiting = ['k2', 'k3', 'k4', 'k5']
  t.equal((await live.host.handle(batchOf(waiting))).failedFrom, undefined, 'the live host takes its batch')
  let states = await statesOf(s.reader, Work.type, KEYS)
  t.same(waiting.map((k) => states.get(k)!.runs.length), [0, 0, 0, 0], 'but runs none of it: no slot is free')
  const parked = (await new TableInspector({ dynamodb: aws.dynamodb, tableName: s.name }).actors()).find((a) => a.type === Work.type)
  t.equal(parked?.parked, 12, 'its twelve messages wait, parked in their keys\' items')
  // Wake-ups come every SLOT_RETRY_MS (on the live host: the other is dead); each finds the slots held until the lease expires.
  while (clock.now() < expiresAt + 4 * SLOT_RETRY_MS && (await s.step(live)));
  states = await statesOf(s.reader, Work.type, KEYS)
  for (const k of waiting) t.same(states.get(k)!.runs.map(([n]) => n), [0, 1, 2], `${k}: every message once, in order`)
  const runs = waiting.flatMap((k) => states.get(k)!.runs.map(([, at]) => at))
  const first = Math.min(...runs)
  t.ok(first >= expiresAt, `none ran before the dead lease expired (the first ${first - killedAt} ms after the kill)`)
  t.ok(first <= expiresAt + SLOT_RETRY_MS, 'and they ran within a wake-up of its expiry')
  t.ok(Math.max(...runs) <= expiresAt + 3 * SLOT_RETRY_MS, 'all of them within two more: one wake-up per key and wait while two slots serve four keys')
  t.ok(overlap.most <= 2, `at most ${overlap.most} turns at once`)
  t.equal((await slots.read(Work.type))?.leases.some((l) => l.expiresAt === expiresAt), false, 'the dead lease was reclaimed')
  t.same(await s.timers.list(), [], 'no wake-up left behind')
  t.equal((await slots.read(Work.type))?.used, 0, 'and no slot held')
})

t.test('the running count in sight: inspect() and the table show the live leases of a capped type', async (t) => {
  const entered: string[] = []
  let most = 0
  let running = 0
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  let twoIn!: () => void
  const bothIn = new Promise<void>((resolve) => (twoIn = resolve))
  class Held extends Actor<{ key: string }, void, { done: number }> {
    static readonly type = 'tc.held'
    static readonly policy = { concurrency: 2 }
    key(m: { key: string }) {
      return m.key
    }
    initialState() {
      return { done: 0 }
    }
    async receive(m: { key: string }, ctx: Context<{ done: number }>) {
      entered.push(m.key)
      most = Math.max(most, ++running)
      if (running === 2) twoIn()
      await gate
      running--
      ctx.state.done++
    }
  }
  const name = `tc-${++made}`
  const system = new AwsSystem({ actors: [Held], ...aws, tableName: name, stream: name, pollMs: 20, timerTickMs: 50, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const keys = ['a', 'b', 'c', 'd', 'e']
  for (const key of keys) await system.tell(Held, { key })
  await bothIn
  const row = () => system.inspect().actors.find((a) => a.type === Held.type)!
  // Each look is a check: the first starts a read of the type's slots, a later one shows it.
  const until = Date.now() + 10_000
  while (row().running !== 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(row().running, 2, 'inspect(): two turns under way (the live leases hold two slots)')
  const fromTable = (await new TableInspector({ dynamodb: aws.dynamodb, tableName: name, actors: [Held] }).actors()).find((a) => a.type === Held.type)
  t.equal(fromTable?.running, 2, 'troupe inspect actors reads the same from the table')
  t.equal(entered.length, 2, 'the other three wait for a slot')
  open()
  const done = async () => (await Promise.all(keys.map((k) => system.state(Held, k)))).every((s) => s?.done === 1)
  const until2 = Date.now() + 30_000
  while (!(await done()) && Date.now() < until2) await new Promise((resolve) => setTimeout(resolve, 20))
  t.ok(await done(), 'then every key ran once')
  t.equal(most, 2, 'never more than two at once')
  const until3 = Date.now() + 10_000
  while (row().running !== 0 && Date.now() < until3) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(row().running, 0, 'and the slots were given back')
})
