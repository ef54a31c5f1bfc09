// What a process puts on a shard it reads is read at once, not at its next poll
// (shard-read-pace.ts): with a poll of ten minutes, an ask through the stream and a turn's tell
// to another actor are answered within seconds; Kinesis's five reads a second per shard still hold.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'

class Echo extends Actor<{ n: number }, number> {
  static readonly type = 'nudge.echo'
  receive(m: { n: number }) {
    return m.n * 2
  }
}

class Relay extends Actor<{ n: number }, void, { relayed: number }> {
  static readonly type = 'nudge.relay'
  initialState() {
    return { relayed: 0 }
  }
  receive(m: { n: number }, ctx: Context<{ relayed: number }>) {
    ctx.state.relayed++
    ctx.tell(Tally, { n: m.n })
  }
}

class Tally extends Actor<{ n: number }, number, { sum: number }> {
  static readonly type = 'nudge.tally'
  initialState() {
    return { sum: 0 }
  }
  receive(m: { n: number }, ctx: Context<{ sum: number }>) {
    ctx.state.sum += m.n
    return ctx.state.sum
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

/** Settles with `what` once `p` does, or says it is still waiting after `ms` (far less than the poll). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([p, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms).unref())])
}

t.test('a poll of ten minutes: what this process sends is read at once', async (t) => {
  const aws = clients(stack)
  const name = 'nudged'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 2 })
  const sys = new AwsSystem({ actors: [Echo, Relay, Tally], ...aws, tableName: name, stream: name, pollMs: 600_000, logLevel: 'error' })
  t.teardown(async () => {
    await sys.stop()
    aws.kinesis.destroy()
    aws.dynamodb.destroy()
  })
  // The first read of each shard is at once: the consumer is at the tip.
  await sys.idle()
  const reads = () => (sys.consumer?.stats() ?? []).reduce((sum, s) => sum + s.reads, 0)
  const before = reads()
  const started = Date.now()
  t.equal(await within(sys.ask(Echo, { n: 21 }), 20_000), 42, 'an ask through the stream is answered')
  for (let n = 1; n <= 5; n++) t.equal(await within(sys.ask(Echo, { n }), 20_000), n * 2, `and ask ${n} after it`)
  // A turn's tell to another actor: sent by this process's outbox, read at once too.
  await sys.tell(Relay, { n: 7 })
  await within(sys.idle(), 20_000)
  t.equal(await within(sys.ask(Tally, { n: 0 }), 20_000), 7, "the relayed message's turn ran")
  const elapsed = Date.now() - started
  t.ok(elapsed < 60_000, `all of it in ${elapsed} ms, against a poll of 600,000 ms`)
  // Five reads a second per shard at most, nudged or not: a read per nudge, never more than that pace.
  const made = reads() - before
  t.ok(made <= 2 * 5 * Math.ceil(elapsed / 1_000 + 1), `${made} reads of 2 shards in ${elapsed} ms`)
})
