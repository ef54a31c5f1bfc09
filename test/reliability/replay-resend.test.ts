// A dead letter written again by a copy of its write — the outbox of the turn that killed the
// message, or that could not send it, sent again when its batch is delivered again (the first
// host died after sending it); a record no host could run, delivered again — while its replay
// holds the letter, or after the replay sent the message and ended the letter. The copy must
// neither take the replay's hold away nor bring the letter back: replayed again, the message
// would run a second time. On the DynamoDB stores (dynalite) and on the memory ones; the hosts'
// sends are recorded and fed back as a stream would.
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import t, { type Test } from 'tap'
import { Actor, TerminalError, type Context } from '../../lib/index.js'
import { replayDeadLetter, type ReplayParts } from '../../lib/aws/dead-letter-replay.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { systemClock } from '../../lib/core/clock.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import type { JournalStore, ReceiptRecord, StateStore } from '../../lib/store/index.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { recordingSender } from './fixtures/recording-sender.js'
import { TroupeError } from '../../lib/core/errors.js'
import type { MessageSender } from '../../lib/hosts/durable/outbox.js'

const open = new Set<string>()
/** Keeps every message it applies; fails for good while its key is not open. */
class Gate extends Actor<{ k: string; n: number }, void, { ns: number[] }> {
  static readonly type = 'resend.gate'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { ns: [] as number[] }
  }
  receive(m: { k: string; n: number }, ctx: Context<{ ns: number[] }>) {
    if (!open.has(m.k)) throw new TerminalError(`${m.k} is closed`)
    ctx.state.ns.push(m.n)
  }
}

/** The stores, and the prefix of the keys used on them (the gate is open per key, for the whole file). */
/** Tells the Gate of its key: a host whose route to the Gate is wrong cannot send it (`misrouted`). */
class Teller extends Actor<{ k: string }, void, { told: number }> {
  static readonly type = 'resend.teller'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { told: 0 }
  }
  receive(m: { k: string }, ctx: Context<{ told: number }>) {
    ctx.state.told++
    ctx.tell(Gate, { k: m.k, n: 1 })
  }
}

/** A sender that cannot send to the Gate (no stream for it in this host's routes), and records the rest. */
function misrouted(sent: Envelope[]): MessageSender {
  return {
    send: async (envelopes) => {
      const results = envelopes.map((e) => {
        if (e.type === Gate.type) return { status: 'failed' as const, messageId: e.id, actor: e.type, stream: undefined, partitionKey: undefined, attempts: 0, error: new TroupeError('TROUPE_CONFIG', `no stream for ${Gate.type} in this host`) }
        sent.push(structuredClone(e))
        return { status: 'sent' as const, messageId: e.id, actor: e.type, stream: 's', partitionKey: e.type, shardId: 'x', sequenceNumber: '1', attempts: 1 }
      })
      return { results, sent: results.filter((r) => r.status === 'sent').length, failed: results.filter((r) => r.status === 'failed').length }
    },
  }
}

type Stores = { state: StateStore; journal: JournalStore; kind: string }

let made = 0
async function dynamodbStores(t: Test): Promise<Stores> {
  const { aws } = await localStackFor(t)
  const tableName = `rel-resend-${process.pid}-${++made}`
  await ensureResources({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName, streams: [], shards: 1 })
  return { state: new DynamoDBStateStore({ client: aws.dynamodb, tableName }), journal: new DynamoDBJournalStore({ client: aws.dynamodb, tableName }), kind: 'dynamodb' }
}

/**
 * Message m of key `k` killed by batch `batch` (record 101 of shard `in`); a host per delivery, as
 * a Lambda that died is replaced by another; and a replay whose send runs `whileSending` first.
 */
async function scene(t: Test, stores: Stores, name: string, how: 'turn' | 'unsendable' | 'unknown type' = 'turn') {
  const k = `${stores.kind}-${name}`
  const sent: Envelope[] = []
  const host = () => new DurableHost({ actors: [Gate, Teller], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: recordingSender(sent), logger: createLogger('silent') })
  // The host that killed it, as each delivery of the first batch finds it: its Gate closed, its
  // route to the Gate wrong, or the Gate not in its app yet.
  const first = () =>
    how === 'turn'
      ? host()
      : new DurableHost({ actors: how === 'unsendable' ? [Gate, Teller] : [Teller], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: how === 'unsendable' ? misrouted([]) : recordingSender([]), logger: createLogger('silent') })
  const told = how === 'unsendable' ? makeEnvelope({ id: `t-${k}` as MessageId, type: Teller.type, key: k, body: { k }, correlationId: 'c' as CorrelationId, sentAt: 1 }) : makeEnvelope({ id: `m-${k}` as MessageId, type: Gate.type, key: k, body: { k, n: 1 }, correlationId: 'c' as CorrelationId, sentAt: 1 })
  told.origin = { lane: 'p:producer', pos: '1', i: 0, fence: '1' }
  if (how !== 'turn') open.add(k)
  // Kinesis stamps each record with when it arrived: the same on every delivery of it.
  const batch: DurableRecord[] = [{ sequenceNumber: '101', data: encodeRecord(told), arrivedAt: Date.now() - 60_000 }]
  const redeliver = () => first().handle({ stream: 's', shardId: 'in', records: batch })
  /** A copy of the record's message in a record of its own, arriving now (a put the transport tried again). */
  const copy = () => first().handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '150', data: batch[0]!.data, arrivedAt: Date.now() }] })
  await redeliver()
  const letters = await stores.journal.deadLetters()
  t.same(letters.map((l) => l.envelope.type), [Gate.type], `the message to the Gate died (${how})`)
  const m = letters[0]!.envelope
  open.add(k)

  const replayed: Envelope[] = []
  let now = Date.now()
  const replay = (whileSending: () => Promise<unknown> = async () => {}) => {
    const parts: ReplayParts = {
      journal: stores.journal as never,
      state: stores.state as never,
      lane: { take: () => 0, origin: () => ({ lane: 'p:replayer', pos: '0', i: 0, fence: '0' }), settle: () => {} } as never,
      codec: undefined as never,
      sender: () => ({
        streams: ['s'],
        putData: async () => {},
        send: async (e) => {
          await whileSending()
          replayed.push(structuredClone(e))
        },
      }),
      accepted: (e): ReceiptRecord => ({ id: e.id, actor: e.type, key: e.key, entry: { status: 'accepted', at: now, attempt: 0 }, expiresAt: now + 3_600_000 }),
      keepsState: () => true,
      now: () => (now += 1_000),
      sideEffects: new MemorySideEffects(),
    }
    return replayDeadLetter(parts, m.id)
  }
  let seq = 101
  /** The copies replayed so far, read at new records after `before` (a redelivery from the batch's start). */
  const readReplays = (before: DurableRecord[] = [], reader = host()) =>
    reader.handle({ stream: 's', shardId: 'in', records: [...before, ...replayed.splice(0).map((e) => ({ sequenceNumber: String(++seq), data: encodeRecord(e) }))] })
  const applied = async () => (JSON.parse((await stores.state.get(Gate.type, k))!.state) as { json: { ns: number[] } }).json.ns
  return { m, batch, host, replay, readReplays, applied, k, redeliver, copy }
}

async function bothWays(t: Test, kind: 'memory' | 'dynamodb'): Promise<void> {
  const stores = kind === 'memory' ? { state: new MemoryStateStore(), journal: new MemoryJournalStore(), kind } : await dynamodbStores(t)

  await t.test('the batch delivered again after the replay ended the letter: no letter comes back', async (t) => {
    const { m, batch, replay, readReplays, applied } = await scene(t, stores, 'after')
    await replay()
    t.same(await stores.journal.deadLetters(), [], 'the replay ended the letter')
    // The batch again, before the replayed copy: its host sends the stored outbox again, the letter with it.
    await readReplays(batch)
    t.same(await applied(), [1], 'the replay applied the message')
    t.same(await stores.journal.deadLetters(), [], 'and the letter written again did not come back')
    await t.rejects(replay(), { code: 'TROUPE_NO_DEAD_LETTER' }, `so nothing replays ${m.id} again`)
    await readReplays()
    t.same(await applied(), [1], 'applied once')
  })

  await t.test('the batch delivered again while the replay holds the letter: its hold and where it sent stay', async (t) => {
    const { host, batch, replay, readReplays, applied } = await scene(t, stores, 'during')
    await replay(() => host().handle({ stream: 's', shardId: 'in', records: batch }))
    t.same(await stores.journal.deadLetters(), [], 'the replay ended the letter, still its own when it sent')
    await readReplays()
    t.same(await applied(), [1], 'the replay applied the message')
    await t.rejects(replay(), { code: 'TROUPE_NO_DEAD_LETTER' }, 'nothing to replay again')
    await readReplays()
    t.same(await applied(), [1], 'applied once')
  })

  for (const how of ['unsendable', 'unknown type'] as const) {
    await t.test(`a letter of a message ${how === 'unsendable' ? 'no send could deliver' : 'of a type the host did not know'}, written again by the batch delivered again after its replay: it stays replayed`, async (t) => {
      const { m, replay, readReplays, applied, redeliver, copy } = await scene(t, stores, how.replace(' ', '-'), how)
      await replay()
      await readReplays()
      t.same(await applied(), [1], 'the replay applied the message')
      await redeliver()
      t.same(await stores.journal.deadLetters(), [], 'the letter written again did not come back')
      await copy()
      t.same(await stores.journal.deadLetters(), [], 'nor did a copy of the message in a record of its own')
      await t.rejects(replay(), { code: 'TROUPE_NO_DEAD_LETTER' }, `nothing replays ${m.id} again`)
      await readReplays()
      t.same(await applied(), [1], 'applied once')
    })
  }

  await t.test('a replay that dies again on a host whose clock is ten minutes behind is a letter again, never taken for a copy', async (t) => {
    const { m, replay, readReplays, applied, k } = await scene(t, stores, 'behind')
    const [first] = await stores.journal.deadLetters()
    await replay()
    open.delete(k)
    const behind = new DurableHost({ actors: [Gate], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: recordingSender([]), logger: createLogger('silent'), clock: { ...systemClock, now: () => Date.now() - 600_000 } })
    await readReplays([], behind)
    const letters = await stores.journal.deadLetters()
    t.same(letters.map((l) => l.envelope.id), [m.id], 'its second death is a letter')
    t.equal(letters[0]?.deadAt, first!.deadAt + 1, 'dead just after the first, whatever that clock said')
    open.add(k)
    await replay()
    await readReplays()
    t.same(await applied(), [1], 'replayed, it runs: once')
  })

  await t.test('a message its sender dated far ahead, dead on arrival, does not hide a later death of it', async (t) => {
    const k = `${stores.kind}-ahead`
    const m = makeEnvelope({ id: `m-${k}` as MessageId, type: Gate.type, key: k, body: { k, n: 1 }, correlationId: 'c' as CorrelationId, sentAt: Date.UTC(9999, 0) })
    m.origin = { lane: 'p:producer', pos: '1', i: 0, fence: '1' }
    const arrivedAt = Date.now() - 60_000
    const without = new DurableHost({ actors: [Teller], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: recordingSender([]), logger: createLogger('silent') })
    await without.handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '101', data: encodeRecord(m), arrivedAt }] })
    const [first] = (await stores.journal.deadLetters()).filter((l) => l.envelope.id === m.id)
    t.equal(first?.deadAt, arrivedAt, 'dead when its record arrived, not in the year 9999')
    // The host that knows the Gate (closed) reads the message again from a record of its own: it dies in a turn, now.
    const again = { ...m, origin: { lane: 'p:producer', pos: '2', i: 0, fence: '2' } }
    const withGate = new DurableHost({ actors: [Gate], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: recordingSender([]), logger: createLogger('silent') })
    await withGate.handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '102', data: encodeRecord(again), arrivedAt: Date.now() }] })
    const [later] = (await stores.journal.deadLetters()).filter((l) => l.envelope.id === m.id)
    t.match(later?.error.message, /is closed/, 'its later death in a turn is the letter kept')
    await stores.journal.takeDeadLetter(m.id)
  })

  await t.test('a later death of the message is a letter again, and its replay runs it', async (t) => {
    const { m, batch, replay, readReplays, applied, k } = await scene(t, stores, 'again')
    await replay()
    await readReplays()
    t.same(await applied(), [1])
    // It dies a second time, now at a later record: a new letter, replaced by no copy of the first.
    open.delete(k)
    const { origin: _o, ...rest } = m
    const second: Envelope = { ...rest, origin: { lane: 'p:producer', pos: '2', i: 0, fence: '2' } }
    await host().handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '200', data: encodeRecord(second) }] })
    t.equal((await stores.journal.deadLetters()).length, 1, 'the new death is kept')
    await host().handle({ stream: 's', shardId: 'in', records: batch })
    open.add(k)
    await replay()
    await readReplays()
    t.same(await applied(), [1, 1], 'its replay ran it: two deaths, two runs')
    t.same(await stores.journal.deadLetters(), [], 'and ended its letter, which no copy of the first brought back')
    function host() {
      return new DurableHost({ actors: [Gate], state: stores.state, timers: new MemoryTimerStore(), journal: stores.journal, messages: recordingSender([]), logger: createLogger('silent') })
    }
  })
}

t.test('on the memory stores', (t) => bothWays(t, 'memory'))
t.test('on the DynamoDB stores (dynalite)', (t) => bothWays(t, 'dynamodb'))
