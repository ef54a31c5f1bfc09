// Effectively-once state under redelivery, on the local Kinesis and DynamoDB: the same batch
// delivered twice, a batch cut off after its commit but before its send, one cut off before
// its commit, and a host that loses the race for an instance to another host. Each ends with
// the state of a single delivery, and receivers see every outgoing message once.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { injectPutRecordsFaults } from '../../lib/local/fault-injection.js'
import { createTable } from '../../lib/store/dynamodb.js'
import { decode } from '../../lib/core/serialization.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { Router } from '../../lib/routing/router.js'
import { createStream, message, readStream } from '../transport/fixtures/kinesis.js'
import { makeHost, messageCount, readBatches } from './fixtures/durable.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'

type In = { k: string; v: number }
type Out = { k: string; v: number; from: string }
interface Tally {
  n: number
  applied: number
}

class Sink extends Actor<Out, void, { count: number; total: number; from: string[] }> {
  static readonly type = 'rd.sink'
  key(m: Out) {
    return m.k
  }
  initialState() {
    return { count: 0, total: 0, from: [] as string[] }
  }
  receive(m: Out, ctx: Context<{ count: number; total: number; from: string[] }>) {
    ctx.state.count++
    ctx.state.total += m.v
    if (!ctx.state.from.includes(m.from)) ctx.state.from.push(m.from)
  }
}

/**
 * The counter as one host runs it: `from` marks what it sends; `gate` holds its first turn,
 * which calls `entered` once it is waiting there.
 */
function counter(from: string, gate?: Promise<void>, entered?: () => void) {
  let first = true
  return class Counter extends Actor<In, void, Tally> {
    static readonly type = 'rd.counter'
    key(m: In) {
      return m.k
    }
    initialState() {
      return { n: 0, applied: 0 }
    }
    async receive(m: In, ctx: Context<Tally>) {
      if (gate && first) {
        first = false
        entered?.()
        await gate
      }
      ctx.state.n += m.v
      ctx.state.applied++
      ctx.tell(Sink, { k: m.k, v: m.v, from })
    }
  }
}

const { aws } = await localStackFor(t)

const KEYS = ['a', 'b', 'c', 'd']
const N = 24
let tables = 0

/** A fresh table, an input stream holding N messages over four keys, and an output stream. */
async function scenario() {
  const tableName = `rd-${++tables}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 2, 'rd-in')
  const output = await createStream(aws.kinesis, 2, 'rd-out')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const sent = Array.from({ length: N }, (_, i) => message('rd.counter', KEYS[i % KEYS.length]!, { k: KEYS[i % KEYS.length]!, v: i + 1 }))
  const report = await producer.send(sent)
  if (report.failed) throw new Error('could not fill the input stream')
  const expected = new Map<string, Tally>()
  for (const e of sent) {
    const body = e.body as In
    const s = expected.get(body.k) ?? { n: 0, applied: 0 }
    s.n += body.v
    s.applied++
    expected.set(body.k, s)
  }
  return { tableName, input, output, expected, batches: await readBatches(aws.kinesis, input) }
}

type Scenario = Awaited<ReturnType<typeof scenario>>

async function counterStates(s: Scenario): Promise<Map<string, Tally>> {
  const { state } = makeHost(aws, s.tableName, [counter('x'), Sink], { stream: s.output })
  const found = new Map<string, Tally>()
  for (const k of KEYS) {
    const stored = await state.get('rd.counter', k)
    if (stored) found.set(k, decode<Tally>(stored.state))
  }
  return found
}

/** Feeds the output stream, twice over, to a receiver; its state counts each message once. */
async function received(s: Scenario) {
  const { host } = makeHost(aws, s.tableName, [counter('x'), Sink], { stream: s.output })
  const batches = await readBatches(aws.kinesis, s.output)
  for (const b of batches) await host.handle(b)
  for (const b of batches) await host.handle(b)
  const { state } = makeHost(aws, s.tableName, [Sink], { stream: s.output })
  const sinks = new Map<string, { count: number; total: number; from: string[] }>()
  for (const k of KEYS) {
    const stored = await state.get('rd.sink', k)
    if (stored) sinks.set(k, decode(stored.state))
  }
  return { sinks, messages: batches.reduce((n, b) => n + messageCount(b), 0) }
}

function expectSinks(t: Test, sinks: Map<string, { count: number; total: number; from: string[] }>, expected: Map<string, Tally>, from: string[]) {
  for (const [k, e] of expected) {
    t.same(sinks.get(k), { count: e.applied, total: e.n, from }, `receiver of ${k} counted each message once`)
  }
}

t.test('the same batch delivered twice, to the same host and to a fresh one, leaves one delivery’s state', async (t) => {
  const s = await scenario()
  const first = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output })
  for (const b of s.batches) {
    const r = await first.host.handle(b)
    t.equal(r.failedFrom, undefined)
    t.equal(r.applied, messageCount(b))
  }
  for (const b of s.batches) {
    const r = await first.host.handle(b)
    t.equal(r.applied, 0, 'nothing applied again')
    t.equal(r.duplicates, messageCount(b), 'every message recognised as a duplicate')
  }
  const fresh = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output })
  for (const b of s.batches) t.equal((await fresh.host.handle(b)).applied, 0)
  t.same(await counterStates(s), s.expected)
  const { sinks, messages } = await received(s)
  // Each instance commits a batch's turns in one write, with their messages in its outbox; the
  // fresh host never saw that outbox's send confirmed, so it sends each one again.
  t.equal(messages, 2 * N, 'the output stream holds every message twice: once from the first host, once re-sent by the fresh host')
  expectSinks(t, sinks, s.expected, ['A'])
})

t.test('a batch cut off after its commit and before its send: the outbox goes out on redelivery, once as receivers can tell', async (t) => {
  const s = await scenario()
  const faults = injectPutRecordsFaults(aws.kinesis, { failRecord: () => 'InternalFailure' })
  const crashed = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output }, {}, { maxAttempts: 1 })
  for (const b of s.batches) {
    const r = await crashed.host.handle(b)
    t.equal(r.failedFrom, b.records[0]!.sequenceNumber, 'the batch is reported unfinished from its first record')
  }
  faults.remove()
  t.same(await counterStates(s), s.expected, 'the state was committed')
  t.equal((await readStream(aws.kinesis, s.output)).length, 0, 'nothing was sent')

  const next = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output })
  for (const b of s.batches) {
    const r = await next.host.handle(b)
    t.equal(r.failedFrom, undefined)
    t.equal(r.applied, 0, 'no turn ran again')
  }
  t.same(await counterStates(s), s.expected)
  const { sinks } = await received(s)
  expectSinks(t, sinks, s.expected, ['A'])
})

t.test('a batch cut off before its commit: redelivery leaves one delivery’s state and sends once', async (t) => {
  const s = await scenario()
  let cut = true
  const name = 'cutBeforeCommit'
  aws.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (cut && context.commandName === 'PutItemCommand') throw Object.assign(new Error('the host died before its commit'), { name: 'InternalServerError' })
      return next(args)
    },
    { step: 'initialize', name },
  )
  const crashed = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output })
  for (const b of s.batches) t.ok((await crashed.host.handle(b)).failedFrom, 'unfinished')
  cut = false
  aws.dynamodb.middlewareStack.remove(name)
  t.same(await counterStates(s), new Map(), 'nothing was committed')
  t.equal((await readStream(aws.kinesis, s.output)).length, 0, 'nothing was sent from uncommitted state')

  const next = makeHost(aws, s.tableName, [counter('A'), Sink], { stream: s.output })
  for (const b of s.batches) t.equal((await next.host.handle(b)).failedFrom, undefined)
  t.same(await counterStates(s), s.expected)
  const { sinks } = await received(s)
  expectSinks(t, sinks, s.expected, ['A'])
})

t.test('a host that loses the race for an instance sends nothing from its losing run', async (t) => {
  const s = await scenario()
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  let entered!: () => void
  const waiting = new Promise<void>((resolve) => (entered = resolve))
  const slow = makeHost(aws, s.tableName, [counter('LOSER', gate, entered), Sink], { stream: s.output }, { concurrency: 1 })
  const fast = makeHost(aws, s.tableName, [counter('WINNER'), Sink], { stream: s.output })
  const batch = s.batches[0]!
  const keys = new Set(batch.records.flatMap((r) => {
    const decoded = defaultRecordCodec.decodeAll(r.data)
    return decoded.ok ? decoded.envelopes.map((e) => e.key) : []
  }))
  // The slow host loads every instance of the batch in one read, then waits inside its first
  // turn; only then does the fast host run the same batch, so every instance the slow host
  // loaded is stale when it commits.
  const losing = slow.host.handle(batch)
  await waiting
  const won = await fast.host.handle(batch)
  t.equal(won.failedFrom, undefined)
  t.equal(won.applied, messageCount(batch), 'the winner applied the whole batch')
  open()
  const lost = await losing
  t.equal(lost.failedFrom, undefined, 'the loser ends without failures')
  t.equal(lost.conflicts, keys.size, `each of the batch's ${keys.size} instances lost its commit once and was reloaded`)
  t.equal(slow.host.counts.get('rd.counter')!.conflicts, keys.size, 'the host counts the same conflicts')
  t.equal(lost.applied, 0, 'after reloading, everything was applied already')
  t.equal(lost.duplicates, messageCount(batch), 'and every message was recognised as a duplicate')
  for (const b of s.batches.slice(1)) await fast.host.handle(b)
  t.same(await counterStates(s), s.expected)
  const out = await readStream(aws.kinesis, s.output)
  t.same([...new Set(out.map((r) => (r.envelope.body as Out).from))], ['WINNER'], 'only the winner’s messages were sent')
  const { sinks } = await received(s)
  expectSinks(t, sinks, s.expected, ['WINNER'])
})

/** Keeps the order it saw; message `poison` fails every attempt. */
class Ledger extends Actor<{ k: string; n: number; poison?: true }, void, { seen: number[] }> {
  static readonly type = 'rd.ledger'
  static readonly policy = { maxAttempts: 3, initialDelayMs: 1_000, backoffMultiplier: 1 }
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { seen: [] as number[] }
  }
  receive(m: { n: number; poison?: true }, ctx: Context<{ seen: number[] }>) {
    if (m.poison) throw new Error(`message ${m.n} is poison`)
    ctx.state.seen.push(m.n)
  }
}

t.test('a poison member in the middle of an aggregate record: the members before it apply once, it dead-letters alone, the rest apply in order', async (t) => {
  const tableName = `rd-${++tables}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'rd-agg')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input, isKeyed: () => true }), lingerMs: 0 })
  const sent = Array.from({ length: 10 }, (_, n) => message('rd.ledger', 'hot', { k: 'hot', n, ...(n === 3 ? { poison: true } : {}) }))
  t.equal((await producer.send(sent)).failed, 0)
  t.equal(producer.stats.aggregatesSent, 1, 'the hot key’s ten messages went as one aggregate record')
  const [batch] = await readBatches(aws.kinesis, input)
  t.equal(batch!.records.length, 1)
  t.equal(messageCount(batch!), 10)
  const sequence = batch!.records[0]!.sequenceNumber

  // Backoff without jitter: a retry always waits the full delay, past the delivery's deadline.
  const noJitter = { random: () => 1 }
  const { host, state, journal } = makeHost(aws, tableName, [Ledger], { stream: input }, noJitter)
  const seen = async () => decode<{ seen: number[] }>((await state.get('rd.ledger', 'hot'))!.state).seen
  // A delivery with half a second left has time for one attempt: the poison's retry (a second
  // on, too short to park) is left for the redelivery, and one that comes before it is due runs
  // nothing; one with time waits it out.
  const soon = () => Date.now() + 500
  let r = await host.handle({ ...batch!, deadline: soon() })
  t.equal(r.failedFrom, sequence, 'unfinished from the aggregate record itself: a real sequence number')
  t.equal(r.applied, 3)
  t.strictSame(await seen(), [0, 1, 2], 'the members before the poison are committed')

  // The redelivery, to a fresh host: the three applied members are skipped, the poison not tried before its retry is due.
  const fresh = makeHost(aws, tableName, [Ledger], { stream: input }, noJitter)
  r = await fresh.host.handle({ ...batch!, deadline: soon() })
  t.match(r, { failedFrom: sequence, applied: 0, duplicates: 3 })
  r = await fresh.host.handle(batch!)
  t.match(r, { applied: 7, duplicates: 3 }, 'second and third attempts: the poison is dead, the six after it run')
  t.equal(r.failedFrom, undefined)
  t.strictSame(await seen(), [0, 1, 2, 4, 5, 6, 7, 8, 9], 'every other member once, in order')
  const dead = await journal.deadLetters('rd.ledger')
  t.strictSame(
    dead.map((d) => [d.envelope.id, d.attempts.length]),
    [[sent[3]!.id, 3]],
    'only the poison is a dead letter, after its three attempts',
  )

  r = await host.handle(batch!)
  t.match(r, { applied: 0, duplicates: 10 }, 'delivered once more: every member is a duplicate')
  t.strictSame(await seen(), [0, 1, 2, 4, 5, 6, 7, 8, 9])
  await producer.close()
})
