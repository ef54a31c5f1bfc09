// The bundled handler in child processes behind the local event source mapping, failing the
// way a deployed function fails: killed mid-batch at each point of a turn (after decode, after
// load, mid-turn, after the commit, mid-send, after the send, before the response), killed from
// outside (LocalFunction.kill), stuck past its timeout, or crashing on one record every time. Whatever happens, the final state is the one
// a crash-free run reaches, and a record the mapping gives up on goes to the on-failure
// destination while its shard moves on.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { Ledger, Sink, type Crash } from './fixtures/actors.js'
import { bundleFixture, rig } from './fixtures/rig.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'host')
})
t.teardown(() => stack?.stop())

const actors = [Ledger, Sink]

t.test('a handler killed mid-batch, at every point of a turn: redelivery reaches the crash-free state, nothing lost', async (t) => {
  const r = await rig(t, stack, bundle, { actors, esm: { batchSize: 10 } })
  // Every point of a turn, in the order a batch meets them (fixtures/actors.ts).
  const points: Crash['at'][] = ['after-decode', 'after-load', 'before-commit', 'after-commit', 'mid-send', 'after-send', 'before-response']
  // One key per point, each with a crash in the middle of its messages; every message tells the Sink.
  for (let n = 1; n <= 6; n++) {
    for (const [i, at] of points.entries()) {
      const k = `key-${i}`
      await r.producer.tell(Ledger, { k, n, tell: true, ...(n === 3 ? { crash: { at, id: `${k}-${at}` } } : {}) })
    }
  }
  await r.settle()
  const exits = r.logs.filter((l) => l.startsWith('fixture: exiting at '))
  for (const [i, at] of points.entries()) {
    const k = `key-${i}`
    t.equal(exits.filter((l) => l.startsWith(`fixture: exiting at ${at} for ${k}-${at}`)).length, 1, `${at}: the process died there once`)
    t.same(await r.producer.state(Ledger, k), { sum: 21, ns: [1, 2, 3, 4, 5, 6] }, `${at}: every message applied once, in order`)
    const tags = (await r.producer.state(Sink, k))?.tags.map((x) => x.replace(/ CRASH@.*$/, ''))
    t.same(tags, [1, 2, 3, 4, 5, 6].map((n) => `${k}:${n}`), `${at}: every told message arrived once, in order`)
  }
  // mid-send: the echo's record went out before the process died, and again with the rest of the
  // outbox on redelivery; its receiver counted it once.
  const midSend = `key-${points.indexOf('mid-send')}`
  // The call carries the batch's whole outbox (how many records depends on how the batch was
  // cut); all but the record with the mark went out.
  const [, sent, of] = exits.map((l) => /^fixture: exiting at mid-send for .* with (\d+) of (\d+) records sent$/.exec(l)).find(Boolean) ?? []
  t.ok(Number(sent) > 0 && Number(of) - Number(sent) === 1, `mid-send: ${sent} of the call's ${of} records were on the stream, the marked one was not`)
  t.same((await r.producer.state(Sink, `${midSend}-echo`))?.tags, [`${midSend}:3`], 'mid-send: the record sent twice arrived once')
  t.equal(exits.length, points.length, 'no other crash')
  const stats = r.fn.stats()
  t.equal(stats.crashes, points.length, 'each crash point killed one environment')
  t.equal(stats.inits, points.length + 1, 'and the next delivery started a fresh one (module init again)')
  t.same(r.failures, [], 'nothing was given up on')
  t.equal(r.esm.stats().functionErrors, points.length, 'each crash failed its invocation; no other did')
})

t.test('ctx.once holds across environments: a redelivery to a fresh one finds the recorded result (README: Guarantees)', async (t) => {
  const r = await rig(t, stack, bundle, { actors, esm: { batchSize: 1 } })
  const log = join(r.markers, 'once-log')
  // Attempt 1 runs the side effect and fails; attempt 2, in the same environment, gets the
  // recorded result and dies before its commit. The redelivery runs in a fresh environment,
  // which reads the record the first one wrote.
  const id = await r.producer.tell(Ledger, { k: 'once', n: 1, onceLog: log, failAttempts: 1, crash: { at: 'before-commit', id: 'once-crash' } })
  await r.settle()
  t.same(await r.producer.state(Ledger, 'once'), { sum: 1, ns: [1] }, 'applied once in the end')
  const runs = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '))
  t.same(runs.map(([m]) => m), [id], 'the side effect ran once, in the first environment')
  t.equal(r.fn.stats().crashes, 1)
  t.equal(r.fn.stats().inits, 2, 'the redelivery ran in a second environment')
})

t.test('an environment killed from outside mid-batch: the batch ends as Runtime.ExitError and the mapping delivers it again to a fresh environment', async (t) => {
  const r = await rig(t, stack, bundle, { actors, start: false })
  for (let n = 1; n <= 4; n++) await r.producer.tell(Ledger, { k: 'killed', n })
  await r.producer.transport.flush()
  await r.fn.provision(1)
  const [env] = r.fn.environments()
  const killed = r.fn.kill(env!.id, { when: 'busy' })
  await r.esm.start()
  await r.settle()
  t.equal(await killed, true)
  t.same(
    r.batches.map((b) => [b.size, b.attempt, b.outcome]),
    [
      [4, 1, 'function-error'],
      [4, 2, 'success'],
    ],
    'the whole batch again, as its second attempt',
  )
  t.equal(r.batches[0]!.error, `Runtime.ExitError: RequestId: ${r.batches[0]!.requestId} Error: Runtime exited with error: signal: killed`)
  t.same(await r.producer.state(Ledger, 'killed'), { sum: 10, ns: [1, 2, 3, 4] }, 'every message applied once, in order')
  t.match(r.fn.stats(), { crashes: 1, inits: 2 })
  t.notOk(r.fn.environments().some((e) => e.id === env!.id), 'the killed environment is gone')
  t.same(r.failures, [])
})

t.test('a record that kills the function every time: after MaximumRetryAttempts it goes to the on-failure destination and the shard moves on', async (t) => {
  const r = await rig(t, stack, bundle, { actors, esm: { batchSize: 1, maximumRetryAttempts: 2 }, start: false })
  await r.producer.tell(Ledger, { k: 'p', n: 1 })
  await r.producer.tell(Ledger, { k: 'p', n: 100, crash: { at: 'before-commit', id: 'poison', always: true } })
  await r.producer.tell(Ledger, { k: 'p', n: 2 })
  await r.esm.start()
  await r.settle()
  t.same(await r.producer.state(Ledger, 'p'), { sum: 3, ns: [1, 2] }, 'the records around the poison were applied')
  t.equal(r.failures.length, 1, 'one on-failure record')
  const [failure] = r.failures
  const poison = r.batches.find((b) => b.outcome === 'function-error')!
  t.match(failure, {
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${r.fn.name}` },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    KinesisBatchInfo: {
      shardId: poison.shardId,
      startSequenceNumber: poison.firstSequenceNumber,
      endSequenceNumber: poison.firstSequenceNumber,
      batchSize: 1,
      streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${r.name}`,
    },
  })
  t.match(failure!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.match(failure!.KinesisBatchInfo.approximateArrivalOfFirstRecord, /Z$/)
  const attempts = r.batches.filter((b) => b.firstSequenceNumber === poison.firstSequenceNumber).map((b) => [b.attempt, b.outcome])
  t.same(attempts, [
    [1, 'function-error'],
    [2, 'function-error'],
    [3, 'function-error'],
  ], 'MaximumRetryAttempts 2: three attempts')
  t.equal(r.fn.stats().crashes, 3)
  // The shard goes on with new records too.
  await r.producer.tell(Ledger, { k: 'p', n: 4 })
  await r.settle()
  t.same(await r.producer.state(Ledger, 'p'), { sum: 7, ns: [1, 2, 4] })
})

t.test('BisectBatchOnFunctionError splits a failing batch in halves until the bad record is alone', async (t) => {
  const r = await rig(t, stack, bundle, { actors, esm: { batchSize: 8, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 }, start: false })
  for (let n = 0; n < 8; n++) {
    await r.producer.tell(Ledger, { k: `b${n}`, n, ...(n === 5 ? { crash: { at: 'before-commit', id: 'bisect-poison', always: true } } : {}) })
  }
  await r.esm.start()
  await r.settle()
  const seqs = await r.sequenceNumbers()
  const shape = r.batches.map((b) => `${seqs.indexOf(b.firstSequenceNumber)}+${b.size}:${b.outcome}`)
  t.same(shape, [
    '0+8:function-error', // the whole batch fails: split 4 | 4
    '0+4:success',
    '4+4:function-error', // split 2 | 2
    '4+2:function-error', // split 1 | 1
    '4+1:success',
    '5+1:function-error', // alone: retried (MaximumRetryAttempts 1) …
    '5+1:function-error', // … then discarded
    '6+2:success',
  ])
  t.same(r.esm.stats().bisects, 3, 'three splits; none counted as a retry attempt')
  t.equal(r.failures.length, 1)
  t.match(r.failures[0], { requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 }, KinesisBatchInfo: { batchSize: 1 } })
  for (let n = 0; n < 8; n++) {
    t.same(await r.producer.state(Ledger, `b${n}`), n === 5 ? undefined : { sum: n, ns: [n] }, `b${n}`)
  }
})

t.test('a handler past the function timeout is killed; the next delivery runs in a fresh environment (init again)', async (t) => {
  const r = await rig(t, stack, bundle, { actors, esm: { functionTimeoutMs: 4_000 }, fn: { timeoutMs: 4_000 } })
  await r.producer.tell(Ledger, { k: 'slow', n: 1, crash: { at: 'hang', id: 'hang-once' } })
  await r.producer.tell(Ledger, { k: 'slow', n: 2 })
  await r.settle()
  t.same(await r.producer.state(Ledger, 'slow'), { sum: 3, ns: [1, 2] })
  const stats = r.fn.stats()
  t.equal(stats.timeouts, 1, 'one timeout')
  t.equal(stats.inits, 2, 'module init ran twice: once per environment')
  t.equal(stats.crashes, 0, 'a timeout is no crash')
  const timedOut = r.batches.find((b) => b.outcome === 'function-error')
  t.match(timedOut?.error, /^Sandbox\.Timedout: RequestId: [0-9a-f-]+ Error: Task timed out after 4\.00 seconds$/)
  t.equal(r.logs.filter((l) => l.startsWith('fixture: init')).length, 2)
})
