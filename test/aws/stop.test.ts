// stop() of the AWS mode against the local servers: it lets the batches its host is running
// finish and says what it drained, and what its host could not finish stays in the stream, where
// the next process to read the shard runs it. inspect() counts the batch while it runs.
// Records are put by a system that only sends, before the consuming system starts, so the
// consumer reads them as one batch.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { eventually, gate, type Gate } from '../fixtures/conformance/helpers.js'
import { localStackFor } from '../fixtures/local-stack.js'

/** Where a `hold` message waits; none: it does not. */
let holding: Gate | undefined

/** Appends n; `hold` waits at the test's gate. */
class Slow extends Actor<{ k: string; n: number; hold?: boolean }, void, { ns: number[] }> {
  static readonly type = 'stop.slow'
  key(msg: Slow['In']) {
    return msg.k
  }
  initialState() {
    return { ns: [] as number[] }
  }
  async receive(msg: Slow['In'], ctx: Context<{ ns: number[] }>) {
    if (msg.hold && holding) await holding.pass()
    ctx.state.ns.push(msg.n)
  }
}

const { aws } = await localStackFor(t)
let made = 0

/** A fresh table and one-shard stream holding `messages`, and a system that consumes them. */
async function consuming(t: Test, messages: Slow['In'][]) {
  const name = `stop-${process.pid}-${++made}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const options = { actors: [Slow], ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'silent' as const }
  const producer = new AwsSystem({ ...options, consume: false })
  for (const m of messages) await producer.tell(Slow, m)
  await producer.stop()
  const gated = (holding = gate())
  const system = new AwsSystem(options)
  t.teardown(async () => {
    gated.open()
    await system.stop().catch(() => {})
  })
  return { system, gated, options }
}

const slow = (system: AwsSystem) => system.inspect().actors.find((a) => a.type === Slow.type)!

t.test('stop() lets the batch under way finish and reports every message of it drained', async (t) => {
  const { system, gated } = await consuming(t, [
    { k: 'a', n: 1, hold: true },
    { k: 'a', n: 2 },
    { k: 'a', n: 3 },
  ])
  await gated.reached
  t.match(slow(system), { running: 1, queued: 2 }, 'one turn under way, two messages behind it')
  const stopping = system.stop({ timeoutMs: 30_000 })
  gated.open()
  t.same(await stopping, { drained: 3, deadLettered: 0, stillRunning: 0, leftInStream: 0 })
  t.same(await system.state(Slow, 'a'), { ns: [1, 2, 3] })
  t.match(slow(system), { running: 0, queued: 0, counts: { done: 3 } })
  t.same(system.instances(Slow).map((i) => [i.key, i.running, i.queued]), [['a', false, 0]])
})

t.test('what the host could not finish while stopping stays in the stream, and the next consumer runs it', async (t) => {
  const { system, gated, options } = await consuming(t, [
    { k: 'a', n: 1, hold: true },
    { k: 'a', n: 2 },
    { k: 'b', n: 1 },
    { k: 'a', n: 3 },
  ])
  await gated.reached
  // b's turn runs beside a's held one, and commits.
  await eventually('b committed', () => slow(system).counts.done, (done) => done === 1)
  t.match(slow(system), { running: 1, queued: 2, counts: { done: 1 } }, 'a under way with two behind it; b done')
  // From now on the table refuses every write: a's commit fails, and its messages are left.
  const name = 'refuseWrites'
  aws.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand') throw Object.assign(new Error('the table is unavailable'), { name: 'InternalServerError' })
      return next(args)
    },
    { step: 'initialize', name },
  )
  let report
  try {
    const stopping = system.stop({ timeoutMs: 30_000 })
    gated.open()
    report = await stopping
  } finally {
    aws.dynamodb.middlewareStack.remove(name)
  }
  t.same(report, { drained: 0, deadLettered: 0, stillRunning: 0, leftInStream: 3 }, "a's three messages left in the stream")
  t.equal(await system.state(Slow, 'a'), undefined, 'nothing of a was committed')

  holding = undefined
  const next = new AwsSystem(options)
  t.teardown(() => next.stop().catch(() => {}))
  await next.idle()
  t.same(await next.state(Slow, 'a'), { ns: [1, 2, 3] }, 'the next consumer ran them, in order')
  t.same(await next.state(Slow, 'b'), { ns: [1] }, 'and did not run b again')
})
