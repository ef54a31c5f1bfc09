// settleLocalLambda: waiting until the local Lambda path has nothing left to do — the producer's
// sends, the function's invocations, the mapping's reads, batches and retries, and the records
// the batches themselves put on the stream — or saying, at its timeout, what was still busy;
// and the mapping's own idle(), which it builds on.
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { NotIdleError } from '../../lib/local/index.js'
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

t.test('it resolves once what the batches told is delivered too, not only what the producer told', async (t) => {
  const r = await rig(t, stack, bundle, { actors })
  for (let n = 1; n <= 5; n++) await r.producer.tell(Ledger, { k: 'chain', n, tell: true })
  await r.settle()
  t.same((await r.producer.state(Sink, 'chain'))?.tags, ['chain:1', 'chain:2', 'chain:3', 'chain:4', 'chain:5'], "the Sink's turns ran")
  t.equal(r.fn.stats().inFlight, 0, 'no invocation runs')
  t.equal(r.esm.stats().inFlight, 0, 'no batch is in flight')
})

t.test("a mapping's own idle() counts a shard read to its tip only by a read after its last batch ended", async (t) => {
  const r = await rig(t, stack, bundle, { actors })
  // The turn takes 200 ms, so the shard's reads during the batch (every 20 ms) find nothing; the
  // Sink's record goes on the stream as the batch ends.
  await r.producer.tell(Ledger, { k: 'outbox', n: 1, tell: true, sleepMs: 200 })
  await r.producer.transport.flush()
  await r.esm.idle({ timeoutMs: 60_000 })
  t.same((await r.producer.state(Sink, 'outbox'))?.tags, ['outbox:1'], "the Sink's record was read and delivered")
  t.same(r.batches.map((b) => b.outcome), ['success', 'success'], "the Ledger's batch, then the Sink's")
})

t.test('past its timeout it rejects with a NotIdleError naming what was still busy: here a retry the mapping has pending', async (t) => {
  let failed!: () => void
  const firstFailure = new Promise<void>((resolve) => (failed = resolve))
  const r = await rig(t, stack, bundle, {
    actors,
    esm: { retryBackoff: { initialMs: 60_000 }, onBatch: (b) => void (b.outcome === 'function-error' && failed()) },
  })
  await r.producer.tell(Ledger, { k: 'stuck', n: 1, crash: { at: 'before-commit', id: 'stuck', always: true } })
  await firstFailure
  const error = await r.settle(300).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(error, NotIdleError)
  t.match(error, { code: 'TROUPE_LAMBDA_NOT_IDLE', message: /^\[TROUPE_LAMBDA_NOT_IDLE\] the local Lambda path was not idle after 300 ms: / })
  t.ok(
    (error as NotIdleError).busy.includes(`the mapping of stream ${r.name}: shardId-000000000000/lane 0: 1 records waiting (retry 1)`),
    `it names the record waiting for its retry (${(error as NotIdleError).busy.join('; ')})`,
  )
})
