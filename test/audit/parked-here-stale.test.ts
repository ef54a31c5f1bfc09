// Two processes on one table: A consumes the stream and fires timers; B fires timers too (a
// Lambda's scheduled tick, or a second container). A parks a key's messages for its throttle; B's
// tick fires the wake-up first and runs them. A never hears of it: its `inspect()` goes on saying
// the messages are parked, and its `idle()` (which waits for "no message parked") never resolves,
// polling for good. A wake-up A runs itself that loses its commit to another host's run (it finds
// nothing left to run, so it commits nothing) leaves A's count stale the same way.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode } from '../../lib/core/serialization.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { clients } from '../../lib/local/local-stack.js'
import { localStackFor } from '../fixtures/local-stack.js'

type In = { k: string; n: number }
type Seen = { seen: number[] }

class Polite extends Actor<In, void, Seen> {
  static readonly type = 'phs.polite'
  static readonly policy = { throttlePerKey: { ratePerSecond: 1, burst: 1 } }
  key(m: In) {
    return m.k
  }
  initialState(): Seen {
    return { seen: [] }
  }
  receive(m: In, ctx: Context<Seen>) {
    ctx.state.seen.push(m.n)
  }
}

const { stack, aws } = await localStackFor(t)

t.test("a wake-up another process ran: this process's inspect() and idle() know the messages ran", async (t) => {
  const name = 'phs-two'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const start = Date.now()
  const clockA = new SimulatedClock(start)
  const clockB = new SimulatedClock(start)
  const theirs = clients(stack)
  t.teardown(() => {
    theirs.kinesis.destroy()
    theirs.dynamodb.destroy()
  })
  const common = { actors: [Polite], tableName: name, stream: name, pollMs: 20, lingerMs: 0, logLevel: 'error' as const }
  const a = new AwsSystem({ ...common, ...aws, clock: clockA })
  const b = new AwsSystem({ ...common, ...theirs, clock: clockB, consume: false, timers: false })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))

  // A's commit that parks two of the three, and says so in its events after it.
  const parked = new Promise<void>((resolve) => {
    let n = 0
    a.on((e) => {
      if (e.type === '@troupe.throttled' && ++n === 2) resolve()
    })
  })
  for (let n = 0; n < 3; n++) await a.tell(Polite, { k: 'k', n })
  await parked
  t.equal(a.inspect().actors.find((r) => r.type === Polite.type)?.parked, 2, 'A parked two')

  // B's tick comes first: its clock is past the wake-up, A's not yet.
  const state = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  // One token a second, one at a time: two ticks of B's, each past the next wake-up.
  for (let tick = 0; tick < 2; tick++) {
    await clockB.advance(5_000)
    await b.fireDueTimers()
  }
  const stored = await state.get(Polite.type, 'k')
  t.same(decode<Seen>(stored!.state).seen, [0, 1, 2], 'B ran the parked messages, in order')
  t.equal(decodeMeta(stored!.meta).parked, undefined, 'nothing is parked any more')

  // A's clock catches up: its runner finds the wake-up gone.
  await clockA.advance(10_000)
  const idle = await Promise.race([a.idle().then(() => 'idle' as const), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000).unref())])
  t.equal(idle, 'idle', "A's idle() resolves: nothing it parked waits any more")
  t.notOk(a.inspect().actors.find((r) => r.type === Polite.type)?.parked, "A's inspect() shows nothing parked")
})
