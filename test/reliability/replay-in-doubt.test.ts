// A replay that stops part-way must leave its letter, and replaying the letter again must apply
// the message once: its send failed though the stream took the record (the answer lost: a
// connection broken off, a timeout), failed with nothing put, or its process died before or after
// its send; and the first copy is read before the letter is replayed again, after, or never came.
// On the local servers (kinesalite, dynalite), the faults made in the Kinesis client itself, so
// the transport's own retries put more copies of the same message.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import t, { type Test } from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { clients } from '../../lib/local/local-stack.js'
import { systemClock } from '../../lib/core/clock.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { Actor, TerminalError, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'

type Applied = { applied: string[]; open: boolean }

/** Keeps every message it applies; a `gated` one fails for good until an `open` one came for its key; `drop` ends the instance. */
class Tally extends Actor<{ k: string; n: string; gated?: boolean; open?: boolean; drop?: boolean }, void, Applied> {
  static readonly type = 'doubt.tally'
  key(msg: { k: string }) {
    return msg.k
  }
  initialState() {
    return { applied: [] as string[], open: false }
  }
  receive(msg: Tally['In'], ctx: Context<Applied>) {
    if (msg.drop) ctx.state = undefined as never
    else if (msg.open) ctx.state.open = true
    else if (msg.gated && !ctx.state.open) throw new TerminalError(`${msg.k} is closed`)
    else ctx.state.applied.push(msg.n)
  }
}

/**
 * Makes every PutRecords that carries message `id` fail: `after` puts the records and then loses
 * the answer (the stream has them; the caller sees a broken connection), `before` fails without
 * putting anything; `hang after` and `hang before` never answer, as a process that died there.
 * Returns how many calls put the message, when the first call came, and a way to end it.
 */
function failPuts(kinesis: KinesisClient, id: string, when: 'before' | 'after' | 'hang before' | 'hang after') {
  const name = `fail-puts-${id}`
  let puts = 0
  let arrived!: () => void
  const reached = new Promise<void>((r) => (arrived = r))
  kinesis.middlewareStack.add(
    (next) => async (args) => {
      const records = (args.input as { Records?: { Data?: Uint8Array }[] }).Records ?? []
      if (!records.some((r) => r.Data !== undefined && Buffer.from(r.Data).includes(id))) return next(args)
      arrived()
      if (when === 'hang before') return new Promise<never>(() => {})
      if (when === 'before') throw Object.assign(new Error('injected: the stream refused the put'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } })
      await next(args)
      puts++
      if (when === 'hang after') return new Promise<never>(() => {})
      throw Object.assign(new Error('injected: the connection broke off after the put'), { name: 'TimeoutError' })
    },
    { step: 'initialize', name },
  )
  return { puts: () => puts, reached, end: () => kinesis.middlewareStack.remove(name) }
}

let made = 0
async function setUp(t: Test, { receipt = true } = {}) {
  const { aws, stack } = await localStackFor(t)
  const name = `rel-doubt-${process.pid}-${++made}`
  await ensureResources({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName: name, streams: [name], shards: 1 })
  const systems: AwsSystem[] = []
  /** A system that consumes the stream, or (`consume: false`) one that only replays, with clients of its own if given, and its clock ahead by `aheadMs`. */
  const start = (consume: boolean, own: { kinesis?: KinesisClient; dynamodb?: DynamoDBClient; aheadMs?: number } = {}) => {
    const clock = { ...systemClock, now: () => Date.now() + (own.aheadMs ?? 0) }
    const system = new AwsSystem({ actors: [Tally], kinesis: own.kinesis ?? aws.kinesis, dynamodb: own.dynamodb ?? aws.dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, consume, clock, logLevel: 'silent' as never })
    systems.push(system)
    return system
  }
  t.teardown(async () => {
    // A system whose replay never answers (its process as good as dead) is not waited for.
    for (const s of systems) await Promise.race([s.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2_000).unref())])
  })
  const states = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  /** The notes the instance keeps of replays not read yet. */
  const notes = async (key: string) => decodeMeta((await states.get(Tally.type, key))?.meta).replays ?? []
  /** Clients of its own, for a replayer whose process dies or stalls. */
  const ownClients = () => {
    const own = clients(stack)
    t.teardown(() => {
      own.kinesis.destroy()
      own.dynamodb.destroy()
    })
    return own
  }

  // A message that died, its key opened since: the letter, and no consumer running.
  const consumer = start(true)
  const id = await consumer.tell(Tally, { k: 'a', n: 'the one', gated: true }, { receipt })
  t.same((await until(() => consumer.deadLetters(), (l) => l.length === 1)).map((l) => l.envelope.id), [id], 'the message died')
  await consumer.tell(Tally, { k: 'a', n: '', open: true })
  await consumer.idle()
  await consumer.stop()
  return { aws, id, start, states, notes, ownClients, replayer: start(false) }
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  let value = await what()
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    value = await what()
  }
  return value
}

/** Runs a consumer until the stream is read to its end and the message's receipt is final. */
async function consume(start: (consume: boolean) => AwsSystem, id: string): Promise<AwsSystem> {
  const consumer = start(true)
  await until(() => consumer.receipt(id), (r) => r?.status === 'done')
  await consumer.idle()
  return consumer
}

t.test('the stream took the replay but its answer was lost; replayed again before the copies are read: applied once', async (t) => {
  const { aws, id, start, notes, replayer } = await setUp(t)
  const lost = failPuts(aws.kinesis, id, 'after')
  await t.rejects(replayer.replay(id), /injected: the connection broke off after the put/)
  lost.end()
  t.ok(lost.puts() > 1, `the transport put the message again on each retry (${lost.puts()} copies)`)
  t.same((await replayer.deadLetters()).map((l) => l.envelope.id), [id], 'the letter stays')
  t.equal((await notes('a')).length, 1, 'the instance keeps the note of the replay')

  await replayer.replay(id)
  t.same(await replayer.deadLetters(), [], 'replayed again')
  const consumer = await consume(start, id)
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one'], 'applied once: the first copy read, every other one a copy')
  t.same(await notes('a'), [], 'the note ended with the copy read')
})

t.test('the stream took the replay but its answer was lost; its copy read before the letter is replayed again: nothing is sent again', async (t) => {
  const { aws, id, start, notes, replayer } = await setUp(t)
  const lost = failPuts(aws.kinesis, id, 'after')
  await t.rejects(replayer.replay(id), /injected: the connection broke off after the put/)
  lost.end()
  const consumer = await consume(start, id)
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one'], 'the copy that went out ran')
  t.same(await notes('a'), [], 'and ended the note')
  t.same((await replayer.deadLetters()).map((l) => l.envelope.id), [id], 'the letter is still there')

  await replayer.replay(id)
  t.same(await replayer.deadLetters(), [], 'the replay takes the letter')
  await replayer.tell(Tally, { k: 'a', n: 'after' })
  await until(() => consumer.state(Tally, 'a'), (s) => s?.applied.includes('after') === true)
  await consumer.idle()
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one', 'after'], 'and sends nothing: applied once, and the key goes on')
})

t.test('the stream took the replay and its copy ran before the replay heard its put failed: the receipt says done, as it ran', async (t) => {
  const { aws, id, start, replayer } = await setUp(t)
  const consumer = start(true)
  const name = 'answer-after-the-run'
  aws.kinesis.middlewareStack.add(
    (next) => async (args) => {
      const records = (args.input as { Records?: { Data?: Uint8Array }[] }).Records ?? []
      if (!records.some((r) => r.Data !== undefined && Buffer.from(r.Data).includes(id))) return next(args)
      await next(args)
      // The answer is lost, and the replay learns of it only once the copy has run.
      await until(() => consumer.receipt(id), (r) => r?.status === 'done')
      throw Object.assign(new Error('injected: the connection broke off after the put'), { name: 'TimeoutError' })
    },
    { step: 'initialize', name },
  )
  await t.rejects(replayer.replay(id), /injected: the connection broke off after the put/)
  aws.kinesis.middlewareStack.remove(name)
  await consumer.idle()
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one'], 'the copy ran, once')
  const receipt = await replayer.receipt(id)
  t.equal(receipt?.status, 'done', 'the receipt ends as the run did, not dead')
  t.same(
    receipt?.history.slice(-3).map((e) => [e.status, e.attempt]),
    [['accepted', 0], ['dead', 0], ['done', 1]],
    'the replay’s run: its failed send says so, before the attempt it could not know of',
  )
  t.same((await replayer.deadLetters()).map((l) => l.envelope.id), [id], 'the letter stays, as after any replay in doubt')
})

t.test('the stream refused the replay of a message sent without a receipt; replayed again: applied once, and its receipt says so', async (t) => {
  const { aws, id, start, notes, replayer } = await setUp(t, { receipt: false })
  const refused = failPuts(aws.kinesis, id, 'before')
  await t.rejects(replayer.replay(id), /injected: the stream refused the put/)
  refused.end()
  t.equal((await notes('a')).length, 1, 'the instance keeps the note: the replay cannot know the stream took nothing')
  const receipt = await replayer.receipt(id)
  t.match(receipt?.history.at(-1), { status: 'dead', reason: /the replay failed, and the dead letter was kept: .*may have reached its stream/ })
  t.same((await replayer.deadLetters()).map((l) => l.envelope.id), [id], 'the letter stays')

  await replayer.replay(id)
  const consumer = await consume(start, id)
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one'], 'the replay again ran it')
  t.equal((await consumer.receipt(id))?.status, 'done', 'the copy the replay again sent asked for a receipt, as the first did')
  t.same(await notes('a'), [], 'and ended the note')
})

for (const when of ['hang after', 'hang before'] as const) {
  t.test(`the replaying process dies ${when === 'hang after' ? 'once its send is on the stream' : 'before its send'}; another replays the letter once the first one's hold ran out: applied once`, async (t) => {
    const { id, start, notes, ownClients, replayer } = await setUp(t)
    const own = ownClients()
    const dying = start(false, own)
    const puts = failPuts(own.kinesis, id, when)
    void dying.replay(id) // never answers once it sends: its process is as good as dead
    await puts.reached
    t.equal((await notes('a')).length, 1, 'the instance keeps the note')
    t.same((await replayer.deadLetters()).map((l) => l.envelope.id), [id], 'the letter stays')
    await t.rejects(replayer.replay(id), { code: 'TROUPE_REPLAY_UNDER_WAY' }, 'held by the replay under way')

    const later = start(false, { aheadMs: 6 * 60_000 })
    await later.replay(id)
    t.same(await later.deadLetters(), [], 'replayed by another process once the hold ran out')
    const consumer = await consume(start, id)
    t.same((await consumer.state(Tally, 'a'))?.applied, ['the one'], 'applied once')
    t.same(await notes('a'), [], 'and the note ended')
  })
}

/** Runs a consumer until a later message to key a is applied: everything before it was read. */
async function readAll(start: (consume: boolean) => AwsSystem): Promise<AwsSystem> {
  const consumer = start(true)
  await consumer.tell(Tally, { k: 'a', n: 'after' })
  await until(() => consumer.state(Tally, 'a'), (s) => s?.applied.includes('after') === true)
  await consumer.idle()
  return consumer
}

t.test("the write that keeps sentAs with the letter is made but its answer lost; the SDK retries it after another replay took over and sent: the note stays, and the message is applied once", async (t) => {
  const { id, start, notes, ownClients } = await setUp(t)
  const own = ownClients()
  let made!: () => void
  const marked = new Promise<void>((r) => (made = r))
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  let answered = false
  own.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      if (!(args.input as { UpdateExpression?: string }).UpdateExpression?.includes('sentAs')) return next(args)
      const out = await next(args)
      if (answered) return out
      answered = true
      made()
      await gate // the process stalls (a broken connection, a pause): its hold runs out meanwhile
      throw Object.assign(new Error('injected: the connection broke off after the update'), { name: 'TimeoutError', $metadata: {} })
    },
    { step: 'finalizeRequest', priority: 'low', name: 'lose-the-answer' },
  )
  const slow = start(false, { dynamodb: own.dynamodb })
  const first = slow.replay(id).then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  )
  await marked
  const later = start(false, { aheadMs: 6 * 60_000 })
  await later.replay(id)
  t.same(await later.deadLetters(), [], 'the replay that took over sent it, under the origin kept with the letter')
  open()
  t.equal(await first, 'TROUPE_REPLAY_UNDER_WAY', 'the stalled one stops: its write, tried again, finds the letter held by another')
  t.equal((await later.receipt(id))?.history.filter((e) => e.status === 'dead' && /replay failed/.test(e.reason ?? '')).length, 0, 'and writes no end of its run into the receipt')
  t.equal((await notes('a')).length, 1, 'the note stands until the copy is read')
  const consumer = await readAll(start)
  t.same((await consumer.state(Tally, 'a'))?.applied, ['the one', 'after'], 'applied once')
  t.same(await notes('a'), [])
})

t.test('a replay stopped after its note, and the instance ended: the note keeps its item from expiring, and a replay again runs the message', async (t) => {
  const { aws, id, start, states, notes, replayer } = await setUp(t)
  const refused = failPuts(aws.kinesis, id, 'before')
  await t.rejects(replayer.replay(id), /injected: the stream refused the put/)
  refused.end()
  const consumer = start(true)
  t.ok(await consumer.state(Tally, 'a'), 'the instance is there')
  await consumer.tell(Tally, { k: 'a', n: '', drop: true })
  await until(() => consumer.state(Tally, 'a'), (s) => s === undefined)
  await consumer.idle()
  const item = await states.get(Tally.type, 'a')
  t.equal(decodeMeta(item?.meta).replays?.length, 1, 'the ended instance keeps the note')
  t.equal(item?.expiresAt, undefined, "and its item does not expire while it does (the table's TTL would drop the note)")
  await consumer.tell(Tally, { k: 'a', n: '', open: true }) // the new instance opens its key again
  await until(() => consumer.state(Tally, 'a'), (s) => s?.open === true)
  await consumer.stop()

  await replayer.replay(id)
  const reader = await readAll(start)
  t.same((await reader.state(Tally, 'a'))?.applied, ['the one', 'after'], 'the replayed message ran, once, on a new instance')
  t.same(await notes('a'), [])
})
