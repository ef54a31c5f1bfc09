// `ask` through the Lambda Invoke API: the real @aws-sdk/client-lambda client against the local
// Invoke server, a LocalFunction running the bundled handler behind it, and the local event
// source mapping feeding the same function from the stream at the same time.
import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { AskFailedError, type AskTimeoutError, type TroupeError } from '../../lib/index.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { Ledger, Sink } from './fixtures/actors.js'
import { bundleFixture, rig } from './fixtures/rig.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'host')
})
t.teardown(() => stack?.stop())

const actors = [Ledger, Sink]

t.test('ask through the local Invoke API returns the typed reply while a stream batch for the same key runs; both effects are kept', async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true })
  // The stream's message comes from another producer: an ask is ordered only after its own system's tells.
  const other = new AwsSystem({ actors, ...r.aws, tableName: r.name, stream: r.name, consume: false, timers: false, logLevel: 'error' })
  t.teardown(() => other.stop())
  await other.tell(Ledger, { k: 'shared', n: 1, sleepMs: 3_000 })
  // Wait until the stream's batch is running in the function.
  const until = Date.now() + 60_000
  while (r.fn.stats().inFlight === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(r.fn.stats().inFlight, 1, 'the stream batch is running')
  const reply: number = await r.producer.ask(Ledger, { k: 'shared', n: 10 }, { timeoutMs: 60_000 })
  // 10: the ask committed first and the stream's turn reran on top of it (a lost conditional
  // write); 11 only if the stream's turn won the race on a very slow machine.
  t.ok(reply === 10 || reply === 11, `the ask's own turn replied (${reply})`)
  await r.settle()
  const state = await r.producer.state(Ledger, 'shared')
  t.equal(state?.sum, 11, 'both turns are in the state')
  t.same([...(state?.ns ?? [])].sort((a, b) => a - b), [1, 10])
  t.ok(r.fn.stats().environments >= 2 || r.fn.stats().inits >= 2, 'the ask ran in an environment of its own')
  t.same(r.server!.stats()[r.fn.name], { invocations: 1, functionErrors: 0 })
  const asks = await r.producer.ask(Ledger, { k: 'shared', n: 5 }, { timeoutMs: 60_000 })
  t.equal(asks, 16, 'a later ask sees both')
})

t.test("an ask by Invoke is applied after the same system's earlier tells to that instance, still on the stream", async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true })
  await r.producer.tell(Ledger, { k: 'o', n: 1, sleepMs: 300 })
  await r.producer.tell(Ledger, { k: 'o', n: 2 })
  const reply: number = await r.producer.ask(Ledger, { k: 'o', n: 10 }, { timeoutMs: 60_000 })
  t.equal(reply, 13, 'the ask saw both tells')
  await r.settle()
  t.same(await r.producer.state(Ledger, 'o'), { sum: 13, ns: [1, 2, 10] }, 'in the order they were sent')
  t.equal(r.server!.stats()[r.fn.name]?.invocations, 1, 'the ask was invoked')
  const alone: number = await r.producer.ask(Ledger, { k: 'o2', n: 4 }, { timeoutMs: 60_000 })
  t.equal(alone, 4, 'an instance with no tell behind it is asked at once')
})

t.test("an answered ask's final receipt entry travels in the instance's commit: receipt() reads it there, and the instance's next record writes it", async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true })
  const ids: string[] = []
  r.producer.on((e) => {
    if (e.type === '@troupe.accepted') ids.push(e.envelope.id)
  })
  t.equal(await r.producer.ask(Ledger, { k: 'p', n: 3 }, { timeoutMs: 60_000 }), 3)
  t.equal(ids.length, 1, 'one ask was accepted')
  const id = ids[0]!
  const journal = new DynamoDBJournalStore({ client: r.aws.dynamodb, tableName: r.name })
  t.same((await journal.receipt(id, Date.now()))?.history.map((e) => e.status), ['accepted'], 'the journal holds the asker’s entry alone')
  t.same((await journal.trace(id, Date.now())).map((l) => l.id), [id], 'and the trace link, which the asker wrote with it')
  const receipt = await r.producer.receipt(id)
  t.equal(receipt?.status, 'done', 'receipt() is final at once: it reads the entry in the instance’s item')
  t.same(receipt?.history.map((e) => e.status), ['accepted', 'done'])
  await r.producer.tell(Ledger, { k: 'p', n: 4 })
  await r.settle()
  t.same((await journal.receipt(id, Date.now()))?.history.map((e) => e.status), ['accepted', 'done'], 'the next record of the instance wrote the final entry')
  t.same(await r.producer.state(Ledger, 'p'), { sum: 7, ns: [3, 4] })
})

t.test('the Invoke API answers as Lambda does: payload, executed version, function errors, unknown functions', async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true, start: false })
  const lambda = r.lambda!
  const tick = await lambda.send(new InvokeCommand({ FunctionName: r.fn.name, Payload: Buffer.from(JSON.stringify({ troupe: 'tick' })) }))
  t.equal(tick.StatusCode, 200)
  t.equal(tick.ExecutedVersion, '$LATEST')
  t.equal(tick.FunctionError, undefined)
  t.same(JSON.parse(Buffer.from(tick.Payload!).toString()), { troupe: 'ticked' })

  const bad = await lambda.send(new InvokeCommand({ FunctionName: `arn:aws:lambda:us-east-1:000000000000:function:${r.fn.name}`, Payload: Buffer.from('{"hello":1}') }))
  t.equal(bad.StatusCode, 200, 'a function error is a 200')
  t.equal(bad.FunctionError, 'Unhandled')
  const error = JSON.parse(Buffer.from(bad.Payload!).toString()) as { errorType: string; errorMessage: string; stackTrace: string[] }
  t.equal(error.errorType, 'TroupeError')
  t.match(error.errorMessage, /TROUPE_BAD_INVOCATION.*hello/)
  t.type(error.stackTrace, Array)

  const missing = await lambda.send(new InvokeCommand({ FunctionName: 'no-such-function', Payload: Buffer.from('{}') })).catch((e: unknown) => e as Error)
  t.equal((missing as Error).name, 'ResourceNotFoundException')
  t.match((missing as Error).message, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function/)

  const huge = await lambda.send(new InvokeCommand({ FunctionName: r.fn.name, Payload: Buffer.from(JSON.stringify({ troupe: 'tick', pad: 'x'.repeat(6 * 1024 * 1024) })) })).catch((e: unknown) => e as Error)
  t.equal((huge as Error).name, 'RequestTooLargeException', 'over 6 MB is refused before anything runs')
})

t.test('an ask whose invocation fails rejects naming the function and the message; a dead turn rejects with AskFailedError', async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true, start: false })
  const crashed = await r.producer.ask(Ledger, { k: 'c', n: 1, crash: { at: 'before-commit', id: 'ask-crash' } }, { timeoutMs: 60_000 }).catch((e: unknown) => e as TroupeError)
  t.equal((crashed as TroupeError).code, 'TROUPE_INVOKE_FAILED')
  t.match((crashed as Error).message, new RegExp(`${r.fn.name}.*Runtime\\.ExitError`))
  t.match((crashed as Error).message, /message [^\s)]+\)/)
  t.equal(await r.producer.state(Ledger, 'c'), undefined, 'the crashed turn kept nothing')
  t.equal(await r.producer.ask(Ledger, { k: 'c', n: 2 }, { timeoutMs: 60_000 }), 2, 'the next ask runs in a fresh environment')
  t.equal(r.fn.stats().inits, 2)

  const dead = await r.producer.ask(Ledger, { k: 'c', n: 3, refuse: true }, { timeoutMs: 60_000 }).catch((e: unknown) => e as AskFailedError)
  t.type(dead, AskFailedError, 'a dead turn answers dead')
  t.equal((dead as AskFailedError).status, 'dead')
  t.match((dead as Error).message, /ledger c refuses 3/)
  const receipt = await r.producer.receipt((dead as AskFailedError).messageId)
  t.equal(receipt?.status, 'dead', 'its receipt says so too')
  t.same(receipt?.history.map((e) => e.status), ['accepted', 'dead'], 'from the caller accepting it, written while the invocation ran, to the end the function committed')
  const id = (dead as AskFailedError).messageId
  const journal = new DynamoDBJournalStore({ client: r.aws.dynamodb, tableName: r.name })
  t.same((await journal.trace(id, Date.now())).map((l) => l.id), [id], 'its trace link is kept (written with the entry the function committed)')
  t.equal(r.fn.stats().inits, 2, 'a dead turn is no function error')
})

t.test('an ask the invocation leaves unfinished goes on the stream and its reply comes with the receipt', async (t) => {
  // The asked function keeps back more time than it has: it starts nothing and answers `unfinished`.
  const r = await rig(t, stack, bundle, { actors, invoke: { fn: { timeoutMs: 3_000, environment: { TROUPE_SAFETY_MARGIN_MS: '10000' } } } })
  const reply = await r.producer.ask(Ledger, { k: 'u', n: 7 }, { timeoutMs: 60_000 })
  t.equal(reply, 7, 'the reply came through the stream')
  t.equal(r.invoked!.stats().invocations, 1, 'the function was invoked once')
  // The mapping counts a batch's records once its invocation returns, which may be after the
  // receipt the asker read: counted once the mapping is idle.
  await r.settle()
  t.ok(r.esm.stats().records >= 1, 'and the mapping delivered the message')
  t.same(await r.producer.state(Ledger, 'u'), { sum: 7, ns: [7] }, 'applied once')
})

t.test('an ask whose invocation runs past the caller goes on the stream too: applied once, its message sent once, its receipt final', async (t) => {
  const r = await rig(t, stack, bundle, { actors, invoke: true })
  const late = await r.producer.ask(Ledger, { k: 'late', n: 4, sleepMs: 3_000, tell: true }, { timeoutMs: 1_000 }).catch((e: unknown) => e as TroupeError)
  t.equal((late as TroupeError).code, 'TROUPE_ASK_TIMEOUT', 'the caller stopped waiting')
  // A tell after it, read by the instance while the invocation still runs: it must not make the
  // instance take the ask for a copy of something applied.
  await r.producer.tell(Ledger, { k: 'late', n: 5, tell: true })
  await r.settle()
  const state = await r.producer.state(Ledger, 'late')
  t.same([...(state?.ns ?? [])].sort(), [4, 5], 'each applied once: the ask by the invocation or by its copy on the stream, never both')
  t.same([...((await r.producer.state(Sink, 'late'))?.tags ?? [])].sort(), ['late:4', 'late:5'], 'what the turns sent arrived once')
  const receipt = await r.producer.receipt((late as AskTimeoutError).messageId)
  t.equal(receipt?.status, 'done', 'its receipt says how it ended')
})
