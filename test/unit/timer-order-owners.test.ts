// Whose timer writes the durable host orders by its commits (TimerOrder): an instance's own named
// timers, in the life of its item. A stateless actor's turns have no item of their own; one that
// waited for its type's rate ran in an item of its own (`wait:<id>`), each such item counting its
// versions from 1, under the type's one timer name: a cancel that ran after a set, each from its
// own waiting item, still stands. The durable host on memory stores, with a type rate of 1 a second.
import t from 'tap'
import { Actor } from '../../lib/core/actor.js'
import type { Context } from '../../lib/core/context.js'
import { wakeTarget, THROTTLE_WAKE } from '../../lib/hosts/durable/instance-throttle.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { SendReport } from '../../lib/transport/kinesis.js'

class Ping extends Actor<{ x: number }> {
  static readonly type = 'owners.ping'
  receive() {}
}

const ran: string[] = []
class Stamp extends Actor<{ op: string }> {
  static readonly type = 'owners.stamp'
  static readonly policy = { throttle: { ratePerSecond: 1, burst: 1 } }
  receive(m: { op: string }, ctx: Context) {
    ran.push(m.op)
    if (m.op === 'set') ctx.schedule(Ping, { x: 1 }, { name: 'remind', afterMs: 3_600_000 })
    if (m.op === 'cancel') ctx.cancelSchedule('remind')
  }
}

const codec = new RecordCodec()
let n = 0
function record(op: string): DurableRecord {
  n++
  const e: Envelope = makeEnvelope({ id: `m-${op}` as MessageId, type: Stamp.type, key: '', body: { op }, correlationId: `m-${op}` as string as CorrelationId, sentAt: 1 })
  e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: '1' }
  return { sequenceNumber: String(1_000 + n), data: codec.encode(e), arrivedAt: Date.now() }
}

t.test("a stateless actor's cancel made after its set stands, each run where it waited for its rate", async (t) => {
  const timers = new MemoryTimerStore()
  const sent = async (es: readonly Envelope[]): Promise<SendReport> => ({ results: es.map(() => ({ status: 'sent', stream: 'in', shardId: 'shardId-000000000000', sequenceNumber: '1' })) as never, sent: es.length, failed: 0 })
  const host = new DurableHost({ actors: [Stamp, Ping], state: new MemoryStateStore(), timers, journal: new MemoryJournalStore(), messages: { send: sent }, logger: createLogger('silent' as never) })
  const batch = [record('first'), record('set'), record('cancel')]
  let read = false
  // The shard's batch once, then each wake-up as it comes due: what a consumer and its ticks do.
  while (ran.length < 3) {
    if (!read) read = (await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch, deadline: Date.now() + 1_000 })).failedFrom === undefined
    const wakes = (await timers.list()).filter((x) => x.target === THROTTLE_WAKE)
    t.not(wakes.length, 0, `a wake-up waits for what is parked (ran: ${ran.join(', ')})`)
    if (wakes.length === 0) break
    const first = wakes.reduce((a, b) => (a.dueAt <= b.dueAt ? a : b))
    if (first.dueAt > Date.now()) await new Promise((r) => setTimeout(r, first.dueAt - Date.now()))
    const { type, key } = wakeTarget(first)
    if (await host.runWaiting(type, key, `flush-${first.id}`, 'in', Date.now() + 1_000)) await timers.delete(first.id)
  }
  t.same(ran, ['first', 'set', 'cancel'], 'set ran, then cancel, each after a wait')
  t.equal(await timers.get('owners.stamp##remind'), undefined, 'the timer is cancelled')
})
