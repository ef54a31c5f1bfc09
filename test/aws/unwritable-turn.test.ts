// A turn that leaves what superjson refuses to write, with the development check off (production):
// on the local Kinesis and DynamoDB, its message is a dead letter naming why, and the messages
// around it on the same key are applied once each. The commit holding it could never be written,
// and before, every delivery failed the same way, the key's other messages stuck behind it.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { AWAIT } from '../fixtures/conformance/helpers.js'

type Counts = { counts: Record<string, number> }

/** Counts words per document: a word is a key of its state (user data as keys, as word counts have). */
class Words extends Actor<{ doc: string; word: string }, void, Counts> {
  static readonly type = 'uw.words'
  key(msg: Words['In']) {
    return msg.doc
  }
  initialState(): Counts {
    return { counts: {} }
  }
  receive(msg: Words['In'], ctx: Context<Counts>) {
    ctx.state.counts[msg.word] = (Object.hasOwn(ctx.state.counts, msg.word) ? ctx.state.counts[msg.word]! : 0) + 1
  }
}

/** Answers an ask with the word as a key, counting the asks (so it keeps state). */
class Echo extends Actor<{ word: string }, Record<string, number>, { asked: number }> {
  static readonly type = 'uw.echo'
  initialState() {
    return { asked: 0 }
  }
  receive(msg: Echo['In'], ctx: Context<{ asked: number }>) {
    ctx.state.asked++
    return { [msg.word]: ctx.state.asked }
  }
}

/** Counts what it relays, and tells a body holding such a key on its second: its outbox cannot be written either. */
class Relay extends Actor<{ doc: string; n: number }, void, { relayed: number }> {
  static readonly type = 'uw.relay'
  key(msg: Relay['In']) {
    return msg.doc
  }
  initialState() {
    return { relayed: 0 }
  }
  receive(msg: Relay['In'], ctx: Context<{ relayed: number }>) {
    ctx.state.relayed++
    ctx.tell(Words, msg.n === 2 ? ({ doc: 'sent', word: 'x', constructor: 1 } as never) : { doc: 'sent', word: `w${msg.n}` })
  }
}

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack?.stop())
const mode = awsMode(() => stack!, { shards: 1 })
const withPayloads = awsMode(() => stack!, { shards: 1, payloads: {} })

t.test('a state key superjson refuses: that message is a dead letter, its neighbours on the key are kept', async (t) => {
  const { system, settle, close } = await mode.start({ actors: [Words, Relay], checkSerializable: false, logLevel: 'silent' })
  t.teardown(close)
  // Told at once, in order: one put, so the refused turn runs in a batch between its neighbours.
  const ids = await Promise.all(['a', 'constructor', 'b', 'a'].map((word) => system.tell(Words, { doc: 'd1', word }, { receipt: true })))
  const statuses = await Promise.all(ids.map(async (id) => (await system.awaitReceipt(id, AWAIT)).status))
  t.same(statuses, ['done', 'dead', 'done', 'done'])
  await settle()
  t.same(await system.state(Words, 'd1'), { counts: { a: 2, b: 1 } }, 'each neighbour applied once, the refused turn not at all')
  const letters = await system.deadLetters()
  t.equal(letters.length, 1)
  t.equal(letters[0]?.envelope.id, ids[1])
  t.equal(letters[0]?.error.name, 'NotSerializableError')
  t.match(letters[0]?.error.message, /^\[TROUPE_NOT_SERIALIZABLE\] state of uw\.words has a key named "constructor", which superjson refuses to write at state\.counts\.constructor;/)
})

for (const [how, modeOf] of [['', mode], [', with large bodies kept out of line', withPayloads]] as const) {
t.test(`a told body superjson refuses${how}: the telling message is a dead letter, and what it would have sent never leaves`, async (t) => {
  const { system, settle, close } = await modeOf.start({ actors: [Words, Relay], checkSerializable: false, logLevel: 'silent' })
  t.teardown(close)
  const ids = await Promise.all([1, 2, 3].map((n) => system.tell(Relay, { doc: 'r', n }, { receipt: true })))
  const statuses = await Promise.all(ids.map(async (id) => (await system.awaitReceipt(id, AWAIT)).status))
  t.same(statuses, ['done', 'dead', 'done'])
  await settle()
  t.same(await system.state(Words, 'sent'), { counts: { w1: 1, w3: 1 } }, 'the two good relays were sent on, once each')
  t.same(await system.state(Relay, 'r'), { relayed: 2 }, 'the refused turn left no state')
  const letters = await system.deadLetters()
  t.same(
    letters.map((l) => [l.envelope.id, l.envelope.type]),
    [[ids[1], 'uw.relay']],
  )
  t.equal(letters[0]?.error.name, 'NotSerializableError')
  t.match(letters[0]?.error.message, /^\[TROUPE_NOT_SERIALIZABLE\] message of uw\.words has a key named "constructor", which superjson refuses to write at body\.constructor;/)
})
}

t.test('an ask whose reply superjson refuses: the asker gets the error, the turn stands', async (t) => {
  const { system, settle, close } = await mode.start({ actors: [Echo], checkSerializable: false, logLevel: 'silent' })
  t.teardown(close)
  const refused = await system.ask(Echo, { word: 'constructor' }, { timeoutMs: AWAIT.timeoutMs }).then(
    () => undefined,
    (error: Error) => error,
  )
  t.match(refused?.message, /reply of uw\.echo has a key named "constructor", which superjson refuses to write at reply\.constructor/)
  t.same(await system.ask(Echo, { word: 'ok' }, { timeoutMs: AWAIT.timeoutMs }), { ok: 2 }, 'the next ask is answered, after the first turn')
  await settle()
  t.same(await system.state(Echo), { asked: 2 }, 'both turns kept their state')
  t.same(await system.deadLetters(), [], 'nothing dead: the turn itself succeeded')
})
