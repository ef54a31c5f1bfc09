// The local event source mapping's own semantics, with a scripted handler (no troupe inside):
// the event shape byte for byte, partial batch responses and the checkpoint, what counts as a
// whole-batch failure, retries, record age, bisect, lanes, the batching window, starting
// positions, injected duplicates, checkpoint stores and ticks (AWS-SEMANTICS.md §1, §2, §6).
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis'
import t, { type Test } from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import {
  laneOf,
  LocalEventSourceMapping,
  readBatchResponse,
  type BatchReport,
  type CheckpointStore,
  type LocalEventSourceMappingOptions,
} from '../../lib/local/local-event-source-mapping.js'
import { bundleFixture, rig, type Rig, type RigOptions } from './fixtures/rig.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'scripted')
})
t.teardown(() => stack?.stop())

type Script = { id: string; do?: 'throw' | 'partial' | 'eventID' | 'misspelled' | 'empty' | 'string' | 'sleep'; times?: number }

async function scripted(t: Test, options: Omit<RigOptions, 'actors'> & { events?: boolean } = {}) {
  const r = await rig(t, stack, bundle, {
    ...options,
    actors: [],
    fn: { ...options.fn, environment: { ...(options.events ? { SCRIPT_LOG_EVENTS: '1' } : {}), ...options.fn?.environment } },
  })
  const put = async (scripts: Script[], key?: (s: Script) => string) => {
    const seqs: string[] = []
    for (const s of scripts) {
      const out = await r.aws.kinesis.send(new PutRecordCommand({ StreamName: r.name, PartitionKey: key ? key(s) : s.id, Data: Buffer.from(JSON.stringify(s)) }))
      seqs.push(out.SequenceNumber!)
    }
    return seqs
  }
  /** The ids of every batch the handler got, in order (ticks as 'tick'). */
  const invocations = () => lines(r).map((l) => (l.tick ? 'tick' : (l.ids as string[]).join(',')))
  return { ...r, put, invocations }
}

function lines(r: Rig): Record<string, unknown>[] {
  const file = join(r.markers, 'invocations.jsonl')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

const ids = (prefix: string, n: number, extra: Partial<Script> = {}): Script[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, ...extra }))

t.test('the event is the AWS event, byte for byte', async (t) => {
  const r = await scripted(t, { events: true, start: false })
  await r.put([{ id: 'a' }, { id: 'b' }])
  await r.esm.start()
  await r.settle()
  const [logged] = lines(r)
  const shards = await r.aws.kinesis.send(new ListShardsCommand({ StreamName: r.name }))
  const shardId = shards.Shards![0]!.ShardId!
  const it = await r.aws.kinesis.send(new GetShardIteratorCommand({ StreamName: r.name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
  const page = await r.aws.kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }))
  const expected = {
    Records: page.Records!.map((x) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: x.PartitionKey,
        sequenceNumber: x.SequenceNumber,
        data: Buffer.from(x.Data!).toString('base64'),
        approximateArrivalTimestamp: x.ApproximateArrivalTimestamp!.getTime() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${x.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::000000000000:role/${r.fn.name}-role`,
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${r.name}`,
    })),
  }
  t.equal(JSON.stringify(logged!.event), JSON.stringify(expected), 'same fields, same order, same values')
  const ts = (logged!.event as typeof expected).Records[0]!.kinesis.approximateArrivalTimestamp
  t.ok(ts > 1e9 && ts < 1e11, `approximateArrivalTimestamp is epoch seconds (${ts})`)
})

t.test('a partial batch response: the checkpoint goes before the lowest reported record, and everything from it comes again', async (t) => {
  const r = await scripted(t, { start: false })
  await r.put([{ id: 'a' }, { id: 'b', do: 'partial', times: 1 }, { id: 'c' }, { id: 'd', do: 'partial', times: 1 }, { id: 'e' }])
  await r.esm.start()
  await r.settle()
  t.same(r.invocations(), ['a,b,c,d,e', 'b,c,d,e'], 'b is the lowest of b and d: b and after come again, c and e included')
  t.same(r.batches.map((b) => b.outcome), ['partial', 'success'])
  t.equal(r.esm.stats().partialFailures, 1)
  t.same(r.failures, [])
})

t.test('whole-batch failures: a throw, an eventID, a misspelled key, an empty identifier, a string', async (t) => {
  for (const what of ['throw', 'eventID', 'misspelled', 'empty', 'string'] as const) {
    const r = await scripted(t, { start: false })
    await r.put([{ id: 'a' }, { id: 'b', do: what, times: 1 }, { id: 'c' }])
    await r.esm.start()
    await r.settle()
    t.same(r.invocations(), ['a,b,c', 'a,b,c'], `${what}: the whole batch again`)
    t.same(r.batches.map((b) => b.outcome), [what === 'throw' ? 'function-error' : 'bad-response', 'success'], what)
  }
})

t.test('without FunctionResponseTypes, as on AWS, a batchItemFailures answer is ignored: the whole batch counts as done', async (t) => {
  const r = await scripted(t, { start: false })
  // Answers that would retry from b, or fail the whole batch, with ReportBatchItemFailures.
  const seqs = await r.put([{ id: 'a' }, { id: 'b', do: 'partial' }, { id: 'c' }, { id: 'd', do: 'eventID' }])
  const batches: BatchReport[] = []
  const plain = new LocalEventSourceMapping({ kinesis: r.aws.kinesis, stream: r.name, fn: r.fn, pollMs: 20, onBatch: (b) => void batches.push(b) })
  t.teardown(() => plain.stop())
  await plain.start()
  await plain.idle()
  t.same(r.invocations(), ['a,b,c,d'], 'delivered once')
  t.same(batches.map((b) => b.outcome), ['success'])
  t.match(plain.stats(), { successes: 1, partialFailures: 0, badResponses: 0, retries: 0 })
  t.same(Object.values(plain.stats().checkpoints), [seqs.at(-1)], 'checkpointed past the whole batch')
})

t.test("only AWS's values: maximumRecordAgeInSeconds -1 or 60 to 604,800, functionResponseTypes [] or ['ReportBatchItemFailures']", async (t) => {
  const r = await scripted(t, { start: false })
  const make = (options: Partial<LocalEventSourceMappingOptions>) => new LocalEventSourceMapping({ kinesis: r.aws.kinesis, stream: r.name, fn: r.fn, ...options })
  for (const age of [0, 1, 1.5, 30, 59, 59.9, 60.5, 604_801, -2, Number.NaN]) {
    t.throws(() => make({ maximumRecordAgeInSeconds: age }), { name: 'ConfigError', code: 'TROUPE_CONFIG', message: /maximumRecordAgeInSeconds must be -1 \(no limit\) or a whole number of seconds from 60 to 604,800, as AWS takes, got/ }, `${age} is refused`)
  }
  t.throws(() => make({ maximumRecordAgeInSeconds: 30 }), { message: /got 30$/ }, 'the error names the value')
  for (const age of [-1, 60, 3_600, 604_800]) t.doesNotThrow(() => make({ maximumRecordAgeInSeconds: age }), `${age} is taken`)
  t.doesNotThrow(() => make({ functionResponseTypes: [] }), '[] is taken')
  t.doesNotThrow(() => make({ functionResponseTypes: ['ReportBatchItemFailures'] }), "['ReportBatchItemFailures'] is taken")
  // @ts-expect-error: a misspelt response type does not compile either
  t.throws(() => make({ functionResponseTypes: ['ReportBatchItemFailure'] }), { name: 'ConfigError', message: /functionResponseTypes must be \[\] or \['ReportBatchItemFailures'\], got \["ReportBatchItemFailure"\]/ }, 'another type is refused')
})

t.test('reading a partial batch response: no answer, {} and a null or empty list are success; else the lowest record, or a whole-batch failure', async (t) => {
  const batch = [{ seq: '5', big: 5n }, { seq: '7', big: 7n }]
  t.same(readBatchResponse(null, batch), { kind: 'success' })
  t.same(readBatchResponse(undefined, batch), { kind: 'success' })
  t.same(readBatchResponse({}, batch), { kind: 'success' })
  t.same(readBatchResponse({ batchItemFailures: null }, batch), { kind: 'success' })
  t.same(readBatchResponse({ batchItemFailures: [] }, batch), { kind: 'success' })
  t.same(readBatchResponse({ batchItemFailures: [{ itemIdentifier: '7' }, { itemIdentifier: '5' }] }, batch), { kind: 'partial', at: 0 })
  t.equal(readBatchResponse({ batchItemFailures: [{ itemIdentifier: '6' }] }, batch).kind, 'bad', 'a sequence number not in the batch')
  t.equal(readBatchResponse({ batchItemFailures: [{ itemIdentifier: 7 }] }, batch).kind, 'bad', 'a number')
  t.equal(readBatchResponse({ batchItemFailures: [{ itemIdentifier: null }] }, batch).kind, 'bad', 'null')
  t.equal(readBatchResponse({ batchItemFailures: 'x' }, batch).kind, 'bad')
  t.equal(readBatchResponse(42, batch).kind, 'bad')
})

t.test('MaximumRetryAttempts: each failed response is one attempt; then the unit is discarded with an on-failure record', async (t) => {
  const r = await scripted(t, { start: false, esm: { maximumRetryAttempts: 1 } })
  const seqs = await r.put([{ id: 'a' }, { id: 'b', do: 'partial' }, { id: 'c' }])
  await r.esm.start()
  await r.settle()
  t.same(r.invocations(), ['a,b,c', 'b,c'], 'one retry, then given up')
  t.equal(r.failures.length, 1)
  t.match(r.failures[0], {
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    KinesisBatchInfo: { startSequenceNumber: seqs[1], endSequenceNumber: seqs[2], batchSize: 2 },
  })
  t.notOk('functionError' in r.failures[0]!.responseContext, 'a partial response is no function error')
  await r.put([{ id: 'd' }])
  await r.settle()
  t.same(r.invocations().at(-1), 'd', 'the shard moved on')
})

t.test('MaximumRecordAgeInSeconds: records past the age are discarded instead of delivered, also while retried', async (t) => {
  // 60 s is the least AWS takes: the mapping's clock is moved past it instead of waiting.
  let skewMs = 0
  const r = await scripted(t, {
    start: false,
    esm: {
      maximumRecordAgeInSeconds: 60,
      retryBackoff: { initialMs: 100, maxMs: 100 },
      now: () => Date.now() + skewMs,
      // The stuck record grows too old once it has failed twice.
      onBatch: (b) => {
        if (b.outcome === 'function-error' && b.attempt >= 2) skewMs = 61_000
      },
    },
  })
  await r.put([{ id: 'old' }])
  skewMs = 61_000
  await r.esm.start()
  await r.settle()
  t.same(r.invocations(), [], 'the old record is discarded before any delivery')
  skewMs = 0
  const seqs = await r.put([{ id: 'stuck', do: 'throw' }])
  await r.settle()
  const calls = r.invocations()
  t.notOk(calls.some((c) => c.includes('old')), 'the old record was never delivered')
  t.same(calls, ['stuck', 'stuck'], 'the failing record was retried until it was too old')
  t.same(r.failures.map((f) => f.requestContext.condition), ['RecordAgeExceeded', 'RecordAgeExceeded'])
  t.equal(r.failures[1]!.KinesisBatchInfo.startSequenceNumber, seqs[0])
  t.equal(r.failures[1]!.responseContext.functionError, 'Unhandled')
})

t.test('bisect: a partial response splits at the reported record (only the rest is retried); a whole-batch failure splits in halves', async (t) => {
  // Every record is on the stream before the mapping starts, so the first batch holds them all.
  const partial = await scripted(t, { start: false, esm: { bisectBatchOnFunctionError: true } })
  await partial.put([{ id: 'a' }, { id: 'b' }, { id: 'c', do: 'partial', times: 1 }, { id: 'd' }])
  await partial.esm.start()
  await partial.settle()
  t.same(partial.invocations(), [
    'a,b,c,d', // c reported: a and b are done
    'c,d', // the rest, split off at c
  ])
  const thrown = await scripted(t, { start: false, esm: { bisectBatchOnFunctionError: true } })
  await thrown.put([{ id: 'w' }, { id: 'x', do: 'throw', times: 1 }, { id: 'y' }, { id: 'z' }])
  await thrown.esm.start()
  await thrown.settle()
  t.same(thrown.invocations(), [
    'w,x,y,z', // x throws: split in halves, in order
    'w,x',
    'y,z',
  ])
  t.equal(partial.esm.stats().bisects + thrown.esm.stats().bisects, 1, 'only the whole-batch failure bisected')
})

t.test('batchSize caps a batch; the batching window waits for a fuller one', async (t) => {
  const small = await scripted(t, { start: false, esm: { batchSize: 2 } })
  await small.put(ids('s', 5))
  await small.esm.start()
  await small.settle()
  t.same(small.invocations(), ['s0,s1', 's2,s3', 's4'])

  const windowed = await scripted(t, { esm: { maximumBatchingWindowInSeconds: 4 } })
  await windowed.put(ids('w', 3))
  await windowed.settle()
  t.same(windowed.invocations(), ['w0,w1,w2'], 'records put one by one arrive in one batch')
})

t.test('ParallelizationFactor: one batch per lane at a time, lanes by md5(partition key), in order per key', async (t) => {
  const r = await scripted(t, { start: false, esm: { parallelizationFactor: 3, batchSize: 4 } })
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
  const scripts = Array.from({ length: 24 }, (_, i) => ({ id: `${keys[i % keys.length]}-${Math.floor(i / keys.length)}`, do: 'sleep' as const }))
  await r.put(scripts, (s) => s.id.split('-')[0]!)
  await r.esm.start()
  await r.settle()
  const batches = lines(r) as { ids: string[]; keys: string[] }[]
  t.equal(batches.reduce((n, b) => n + b.ids.length, 0), 24, 'every record once')
  for (const b of batches) t.equal(new Set(b.keys.map((k) => laneOf(k, 3))).size, 1, `one lane per batch (${b.ids.join(',')})`)
  for (const k of keys) {
    const order = batches.flatMap((b) => b.ids).filter((id) => id.startsWith(`${k}-`))
    t.same(order, [0, 1, 2, 3].map((n) => `${k}-${n}`), `${k} in order`)
  }
  t.ok(new Set(keys.map((k) => laneOf(k, 3))).size > 1, 'the keys use more than one lane')
})

t.test('LATEST skips what was there before the mapping started', async (t) => {
  const r = await scripted(t, { start: false, esm: { startingPosition: 'LATEST' } })
  await r.put([{ id: 'before' }])
  await r.esm.start()
  await r.put([{ id: 'after' }])
  await r.settle()
  t.same(r.invocations(), ['after'])
})

t.test('duplicateDelivery delivers successful batches again; checkpoints survive in a store', async (t) => {
  const r = await scripted(t, { start: false, esm: { duplicateDelivery: 1, batchSize: 2 } })
  await r.put(ids('x', 3))
  await r.esm.start()
  await r.settle()
  t.same(r.invocations(), ['x0,x1', 'x0,x1', 'x2', 'x2'])
  t.equal(r.esm.stats().duplicatesInjected, 2)

  const kept = new Map<string, string>()
  const store: CheckpointStore = { get: (_s, shard) => kept.get(shard), put: (_s, shard, seq) => void kept.set(shard, seq) }
  const first = await scripted(t, { start: false, esm: { checkpoints: store } })
  const seqs = await first.put(ids('y', 2))
  await first.esm.start()
  await first.settle()
  await first.esm.stop()
  t.same([...kept.values()], [seqs[1]], 'the checkpoint is the last record done')
  await first.put([{ id: 'y2' }])
  const again = new LocalEventSourceMapping({ kinesis: first.aws.kinesis, stream: first.name, fn: first.fn, checkpoints: store, pollMs: 20 })
  t.teardown(() => again.stop())
  await again.start()
  await again.idle()
  t.same(first.invocations(), ['y0,y1', 'y2'], 'a new mapping with the store resumes after the checkpoint')
})

t.test('tickEveryMs invokes { troupe: "tick" } as the scheduled rule does', async (t) => {
  const r = await scripted(t, { esm: { tickEveryMs: 50 } })
  const until = Date.now() + 30_000
  while (r.esm.stats().ticks < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  await r.esm.stop()
  await r.fn.idle()
  t.ok(r.invocations().filter((c) => c === 'tick').length >= 2, 'ticks arrived')
  t.equal(r.esm.stats().tickErrors, 0)
})
