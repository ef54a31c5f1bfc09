// The Kinesis transport against kinesalite, started here on a random port and stopped at the end.
// kinesalite never fails a record or throttles, so those failures are injected in SDK middleware.
import t, { type Test } from 'tap'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { injectPutRecordsFaults, type PutRecordsFaultCode } from '../../lib/local/fault-injection.js'
import { clients, startLocalStack } from '../../lib/local/local-stack.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import type { Envelope } from '../../lib/core/envelope.js'
import type { MessageId } from '../../lib/core/ids.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'
import { Router } from '../../lib/routing/router.js'
import { KinesisTransport, type KinesisTransportOptions, type SendReport } from '../../lib/transport/kinesis.js'
import { createStream, message, readStream } from './fixtures/kinesis.js'

const stack = await startLocalStack()
t.teardown(() => stack.stop())

/** A counted Kinesis client for one test, destroyed after it. */
function kinesisFor(t: Test, maxAttempts = 3): { kinesis: KinesisClient; counter: RequestCounter } {
  const c = clients(stack, { maxAttempts })
  t.teardown(() => {
    c.kinesis.destroy()
    c.dynamodb.destroy()
  })
  const counter = new RequestCounter()
  countRequests(c.kinesis, counter)
  return { kinesis: c.kinesis, counter }
}

function transportFor(t: Test, options: Omit<KinesisTransportOptions, 'router'> & { router?: Router; stream?: string }): KinesisTransport {
  const transport = new KinesisTransport({
    baseDelayMs: 5,
    maxDelayMs: 20,
    ...options,
    router: options.router ?? new Router({ defaultStream: options.stream! }),
  })
  t.teardown(() => transport.close())
  return transport
}

const ok = (t: Test, report: SendReport) => {
  const failures = report.results.filter((r) => r.status === 'failed')
  t.equal(report.failed, 0, failures.length ? `failed: ${failures.map((f) => f.status === 'failed' && f.error.message).join('; ')}` : 'nothing failed')
}

/** Per partition key, the message numbers (`body.n`) in stream order. */
function orderByKey(records: { partitionKey: string; envelope: Envelope }[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>()
  for (const r of records) {
    const list = byKey.get(r.partitionKey) ?? []
    list.push((r.envelope.body as { n: number }).n)
    byKey.set(r.partitionKey, list)
  }
  return byKey
}

t.test('1,200 small messages go out in 3 PutRecords calls, after one DescribeStreamSummary', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis)
  const transport = transportFor(t, { client: kinesis, stream })
  const messages = Array.from({ length: 1_200 }, (_, n) => message('geoIp', '', { ip: `10.0.${n >> 8}.${n & 255}`, n }))
  const before = counter.snapshot()
  const report = await transport.send(messages)
  const cost = counter.since(before)
  ok(t, report)
  t.equal(report.sent, 1_200)
  t.equal(cost.byApi['Kinesis.PutRecords']?.requests, 3, '500 + 500 + 200')
  t.equal(cost.byApi['Kinesis.DescribeStreamSummary']?.requests, 1, 'the record size limit, read once')
  t.equal(cost.total.requests, 4)
  const first = report.results[0]!
  t.match(first, { status: 'sent', messageId: messages[0]!.id, actor: 'geoIp', stream, shardId: /^shardId-/, sequenceNumber: /^\d+$/, attempts: 1 })

  const read = await readStream(kinesis, stream)
  t.equal(read.length, 1_200, 'every record is on the stream')
  t.equal(new Set(read.map((r) => r.envelope.id)).size, 1_200, 'once each')
  const bySeq = new Map(report.results.map((r) => [r.status === 'sent' ? r.sequenceNumber : '', r.messageId]))
  t.ok(read.every((r) => bySeq.get(r.sequenceNumber) === r.envelope.id), 'each reported sequence number holds its message')

  const again = await transport.send(messages.slice(0, 10).map((m) => ({ ...m, id: `${m.id}-again` as MessageId })))
  ok(t, again)
  t.equal(counter.requests('Kinesis.DescribeStreamSummary'), 1 + 1, 'the limit is cached per stream (1 from createStream)')
})

t.test('requests per message for a 10,000-message send', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const streams = [await createStream(kinesis, 4), await createStream(kinesis, 4), await createStream(kinesis, 4), await createStream(kinesis, 4)]
  const measure = async (stream: string, ordering: 'strict' | 'batched', keyOf: (n: number) => string, aggregate = true) => {
    const transport = transportFor(t, { client: kinesis, stream, ordering, aggregate })
    const messages = Array.from({ length: 10_000 }, (_, n) => message('pageStats', keyOf(n), { url: `/page/${n % 100}`, n }))
    const before = counter.snapshot()
    const started = Date.now()
    const report = await transport.send(messages)
    const cost = counter.since(before)
    ok(t, report)
    const puts = cost.byApi['Kinesis.PutRecords']!.requests
    t.comment(
      `${ordering}${aggregate ? '' : ' without aggregation'}, ${keyOf(0) === '' ? 'unkeyed' : `${new Set(messages.map((m) => m.key)).size} keys`}: ${puts} PutRecords + ${cost.total.requests - puts} other = ` +
        `${(cost.total.requests / 10_000).toFixed(4)} requests per message, ${Date.now() - started} ms`,
    )
    return puts
  }
  t.equal(await measure(streams[0]!, 'strict', () => ''), 20, 'unkeyed: 20 full calls')
  t.equal(await measure(streams[1]!, 'strict', (n) => `/page/${n % 1_000}`, false), 20, '1,000 instances, no aggregation: still 20 calls (≤ 1 record per key per call)')
  t.equal(await measure(streams[3]!, 'strict', (n) => `/page/${n % 1_000}`), 2, '1,000 instances: 2 calls of 500 aggregate records (10 messages each)')
  t.equal(await measure(streams[2]!, 'batched', (n) => `/page/${n % 10}`), 20, '10 hot instances, batched: 20 calls')
})

t.test('hot keys: strict ordering without aggregation spends a call per record of the hottest key; aggregated or batched does not', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis)
  const messages = Array.from({ length: 200 }, (_, n) => message('pageStats', `/page/${n % 4}`, { n }))
  const strict = transportFor(t, { client: kinesis, stream, ordering: 'strict', aggregate: false })
  let before = counter.snapshot()
  ok(t, await strict.send(messages))
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 50, '4 keys × 50 messages: 50 calls of 4 records')
  const aggregated = transportFor(t, { client: kinesis, stream, ordering: 'strict' })
  before = counter.snapshot()
  const report = await aggregated.send(messages.map((m) => ({ ...m, id: `${m.id}-a` as MessageId })))
  ok(t, report)
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 1, 'aggregated: one call of 4 records, 50 messages each')
  t.equal(aggregated.stats.aggregatesSent, 4)
  t.equal(aggregated.stats.recordsSent, 200)
  const first = report.results.filter((r) => r.status === 'sent' && r.partitionKey === 'pageStats#/page/0')
  t.strictSame(first.map((r) => r.status === 'sent' && r.member), Array.from({ length: 50 }, (_, i) => i), 'each message knows its place in its record')
  t.equal(new Set(first.map((r) => r.status === 'sent' && r.sequenceNumber)).size, 1, 'and they share its sequence number')
  const batched = transportFor(t, { client: kinesis, stream, ordering: 'batched' })
  before = counter.snapshot()
  ok(t, await batched.send(messages.map((m) => ({ ...m, id: `${m.id}-b` as MessageId }))))
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 1, 'one call of 200 records')
  for (const [key, ns] of orderByKey(await readStream(kinesis, stream))) {
    const sorted = (part: number[]) => [...part].sort((a, b) => a - b)
    t.strictSame(ns, [...sorted(ns.slice(0, 50)), ...sorted(ns.slice(50, 100)), ...sorted(ns.slice(100))], `${key}: in order, all three times`)
    t.equal(ns.length, 150)
  }
})

t.test('calls are split at 5 MiB, data plus partition keys', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis)
  const callBytes: number[] = []
  injectPutRecordsFaults(kinesis, {
    failRecord: (r) => {
      callBytes[r.call] = (callBytes[r.call] ?? 0) + r.data.byteLength + Buffer.byteLength(r.partitionKey)
      return undefined
    },
  })
  const transport = transportFor(t, { client: kinesis, stream })
  const messages = Array.from({ length: 12 }, (_, n) => message('blob', '', { n, payload: 'x'.repeat(1_000_000) }))
  const before = counter.snapshot()
  const report = await transport.send(messages)
  ok(t, report)
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 3, '12 records of ~1 MB: 5 + 5 + 2')
  t.strictSame(
    callBytes.map((b) => b <= 5 * 1024 * 1024),
    [true, true, true],
    `every call at most 5 MiB (${callBytes.join(', ')} bytes)`,
  )
  t.ok(callBytes[0]! > 5_000_000, 'and filled close to it')
  t.equal((await readStream(kinesis, stream)).length, 12)
})

/** Fails chosen attempts of chosen messages, by message number, and counts every record offered. */
function faultPlan(plan: (n: number, attempt: number) => PutRecordsFaultCode | undefined) {
  const attempts = new Map<string, number>()
  let offered = 0
  return {
    get offered() {
      return offered
    },
    failRecord: (r: { data: Uint8Array }) => {
      // An aggregate record fails when the plan fails any of its messages.
      const decoded = defaultRecordCodec.decodeAll(r.data)
      if (!decoded.ok) throw new Error(decoded.reason)
      let code: PutRecordsFaultCode | undefined
      for (const envelope of decoded.envelopes) {
        offered++
        const attempt = (attempts.get(envelope.id) ?? 0) + 1
        attempts.set(envelope.id, attempt)
        code ??= plan((envelope.body as { n: number }).n, attempt)
      }
      return code
    },
  }
}

t.test('partial failure: only the failed records are resent, per-key order and exactly-once on the stream', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis, 2)
  // 4 instances (40, 40, 40 and 10 messages), interleaved with 30 unkeyed ones.
  const messages: Envelope[] = []
  for (let n = 0; n < 160; n++) messages.push(n % 4 === 3 && n < 160 - 40 ? message('geoIp', '', { n }) : message('pageStats', `/p${n % 4}`, { n }))
  const plan = faultPlan((n, attempt) => {
    if (n % 5 === 0 && attempt <= 2) return 'ProvisionedThroughputExceededException' // fails twice
    if (n % 7 === 0 && attempt === 1) return 'InternalFailure' // fails once
    return undefined
  })
  const faults = injectPutRecordsFaults(kinesis, plan)
  const transport = transportFor(t, { client: kinesis, stream, maxBatchRecords: 50, aggregate: false })
  const before = counter.snapshot()
  const report = await transport.send(messages)
  ok(t, report)
  t.ok(faults.failedRecords > 40, `${faults.failedRecords} record failures injected`)
  t.equal(plan.offered, messages.length + faults.failedRecords, 'records offered = messages + failures: nothing accepted was sent again')
  t.equal(transport.stats.recordsRetried, faults.failedRecords)
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.errors ?? 0, 0, 'all inside HTTP 200 responses')
  const byId = new Map(report.results.map((r) => [r.messageId, r]))
  t.equal(byId.get(messages[0]!.id)!.attempts, 3, 'message 0 failed twice, went in on the third attempt')
  t.equal(byId.get(messages[7]!.id)!.attempts, 2, 'message 7 failed once')
  t.equal(byId.get(messages[1]!.id)!.attempts, 1)
  t.notOk(report.results.some((r) => r.status === 'sent' && r.overtook), 'strict: nothing overtook')

  const read = await readStream(kinesis, stream)
  t.equal(read.length, messages.length, 'no loss')
  t.equal(new Set(read.map((r) => r.envelope.id)).size, messages.length, 'no duplicates')
  const sentOrder = orderByKey(messages.map((m) => ({ partitionKey: m.key ? `pageStats#${m.key}` : m.id, envelope: m })))
  const readOrder = orderByKey(read)
  for (const key of ['pageStats#/p0', 'pageStats#/p1', 'pageStats#/p2', 'pageStats#/p3']) {
    t.strictSame(readOrder.get(key), sentOrder.get(key), `${key}: stream order is send order (${sentOrder.get(key)!.length} messages)`)
  }
})

t.test('partial failure of aggregate records: a failed record goes again whole, ahead of its key, exactly once on the stream', async (t) => {
  const { kinesis } = kinesisFor(t)
  const stream = await createStream(kinesis, 2)
  const plan = faultPlan((n, attempt) => {
    if (n % 5 === 0 && attempt <= 2) return 'ProvisionedThroughputExceededException'
    if (n % 7 === 0 && attempt === 1) return 'InternalFailure'
    return undefined
  })
  const faults = injectPutRecordsFaults(kinesis, plan)
  const transport = transportFor(t, { client: kinesis, stream, lingerMs: 1 })
  // A hot key and two cooler ones, told one by one: runs form while earlier records are in flight or backing off.
  const messages = Array.from({ length: 300 }, (_, n) => message('pageStats', n % 3 === 0 ? '/cool' + (n % 2) : '/hot', { n }))
  const results = await Promise.all(messages.map((m) => transport.enqueue(m)))
  t.equal(results.filter((r) => r.status === 'failed').length, 0, 'nothing failed')
  t.ok(faults.failedRecords > 0, `${faults.failedRecords} records failed by injection`)
  t.ok(transport.stats.aggregatesSent > 0, `${transport.stats.aggregatesSent} aggregate records`)
  t.ok(transport.stats.calls < messages.length / 5, `${transport.stats.calls} calls for ${messages.length} messages`)
  t.notOk(results.some((r) => r.status === 'sent' && r.overtook), 'nothing overtook')
  const read = await readStream(kinesis, stream)
  t.equal(read.length, messages.length, 'no loss')
  t.equal(new Set(read.map((r) => r.envelope.id)).size, messages.length, 'no duplicates')
  const sentOrder = orderByKey(messages.map((m) => ({ partitionKey: `pageStats#${m.key}`, envelope: m })))
  for (const [key, ns] of orderByKey(read)) t.strictSame(ns, sentOrder.get(key), `${key}: stream order is send order (${ns.length} messages)`)
  const bySequence = new Map(results.map((r) => [r.status === 'sent' ? `${r.sequenceNumber}/${r.member ?? 0}` : '', r.messageId]))
  t.ok(read.every((r) => bySequence.get(`${r.sequenceNumber}/${r.member ?? 0}`) === r.envelope.id), 'each reported position (sequence number, member) holds its message')
})

t.test('batched ordering: Kinesis may accept a later record of a key while failing an earlier one; the report says which', async (t) => {
  const { kinesis } = kinesisFor(t)
  const stream = await createStream(kinesis, 1)
  const messages = Array.from({ length: 60 }, (_, n) => message('pageStats', `/p${n % 3}`, { n }))
  // Fail some records on their first attempt only, whatever their position in the run.
  const plan = faultPlan((n, attempt) => (attempt === 1 && [4, 10, 11, 30, 57].includes(n) ? 'InternalFailure' : undefined))
  injectPutRecordsFaults(kinesis, plan)
  const transport = transportFor(t, { client: kinesis, stream, ordering: 'batched' })
  const report = await transport.send(messages)
  ok(t, report)
  const flagged = new Set(report.results.filter((r) => r.status === 'sent' && r.overtook).map((r) => r.messageId))
  t.equal(transport.stats.recordsOvertaking, flagged.size)

  const read = await readStream(kinesis, stream)
  t.equal(read.length, 60)
  t.equal(new Set(read.map((r) => r.envelope.id)).size, 60, 'no duplicates')
  // A record overtook when an earlier-sent record of its key lands after it.
  const overtaking = new Set<string>()
  for (const ns of orderByKey(read).values()) {
    ns.forEach((n, i) => {
      if (ns.slice(i + 1).some((later) => later < n)) overtaking.add(messages[n]!.id)
    })
  }
  t.ok(overtaking.size > 0, `Kinesis reordered ${overtaking.size} records`)
  t.strictSame([...flagged].sort(), [...overtaking].sort(), 'exactly the reordered records are flagged `overtook`')
  const key1 = orderByKey(read).get('pageStats#/p1')!
  t.ok(key1.indexOf(4) > key1.indexOf(7), 'message 7 overtook message 4, which failed in the same call')
})

t.test('a throttled call is retried by the transport, without duplicates', async (t) => {
  const { kinesis, counter } = kinesisFor(t, 1) // no SDK retries: the transport's own
  const stream = await createStream(kinesis)
  const faults = injectPutRecordsFaults(kinesis, { throttle: ({ call }) => call < 2 })
  const transport = transportFor(t, { client: kinesis, stream })
  const messages = Array.from({ length: 30 }, (_, n) => message('pageStats', `/p${n % 3}`, { n }))
  const before = counter.snapshot()
  const report = await transport.send(messages)
  ok(t, report)
  t.equal(faults.throttledAttempts, 2)
  t.strictSame(
    { requests: counter.since(before).byApi['Kinesis.PutRecords']?.requests, errors: counter.since(before).byApi['Kinesis.PutRecords']?.errors },
    { requests: 3, errors: 2 },
    '2 throttled attempts (counted as errors), then 1 call of 3 aggregate records (strict, 3 keys)',
  )
  t.equal(transport.stats.failedCalls, 2)
  t.equal(report.results[0]!.attempts, 3, 'the first records went three times')
  const read = await readStream(kinesis, stream)
  t.equal(read.length, 30)
  t.equal(new Set(read.map((r) => r.envelope.id)).size, 30)
  for (const [key, ns] of orderByKey(read)) t.strictSame(ns, [...ns].sort((a, b) => a - b), `${key} in order`)
})

t.test('a throttled HTTP attempt is retried by the SDK first, as on AWS', async (t) => {
  const { kinesis, counter } = kinesisFor(t, 2)
  const stream = await createStream(kinesis)
  injectPutRecordsFaults(kinesis, { throttle: ({ attempt }) => attempt === 1 })
  const transport = transportFor(t, { client: kinesis, stream })
  const before = counter.snapshot()
  ok(t, await transport.send([message('geoIp', '', { n: 0 })]))
  t.match(counter.since(before).byApi['Kinesis.PutRecords'], { requests: 2, errors: 1 })
  t.equal(transport.stats.calls, 1, 'one call for the transport')
  t.equal(transport.stats.failedCalls, 0)
})

t.test('when retries run out, the record fails, and its key’s later records fail behind it', async (t) => {
  const { kinesis } = kinesisFor(t, 1)
  const stream = await createStream(kinesis)
  injectPutRecordsFaults(kinesis, { throttle: () => true })
  const transport = transportFor(t, { client: kinesis, stream, maxAttempts: 3, aggregate: false })
  const [k1, k2, j1] = [message('counter', 'k', { n: 1 }), message('counter', 'k', { n: 2 }), message('counter', 'j', { n: 3 })]
  const report = await transport.send([k1, k2, j1])
  t.equal(report.failed, 3)
  const [r1, r2, r3] = report.results
  t.match(r1, {
    status: 'failed',
    attempts: 3,
    error: { code: 'TROUPE_SEND_FAILED', errorCode: 'ProvisionedThroughputExceededException', message: new RegExp(`message ${k1.id} for counter was not written to stream "${stream}" after 3 attempts: ProvisionedThroughputExceededException`) },
  })
  t.match(r2, { status: 'failed', attempts: 0, error: { code: 'TROUPE_SEND_HELD_BACK', blockedBy: k1.id, message: /same partition key \("counter#k"\) failed ahead of it/ } })
  t.match(r3, { status: 'failed', attempts: 3, error: { code: 'TROUPE_SEND_FAILED' } })
  t.equal((await readStream(kinesis, stream)).length, 0, 'nothing was written')
})

t.test('a record over the stream’s limit fails alone, with the actor, message id and size', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis)
  const transport = transportFor(t, { client: kinesis, stream })
  t.equal(await transport.recordLimit(stream), 1024 * 1024, 'kinesalite reports no MaxRecordSizeInKiB: 1 MiB')
  const big = message('upload', 'u1', { blob: 'x'.repeat(1_100_000) })
  const messages = [message('upload', 'u1', { n: 0 }), big, message('upload', 'u1', { n: 2 }), message('geoIp', '', { n: 3 })]
  const before = counter.snapshot()
  const report = await transport.send(messages)
  t.equal(report.sent, 3)
  t.equal(report.failed, 1)
  const failed = report.results[1]!
  t.match(failed, {
    status: 'failed',
    messageId: big.id,
    attempts: 0,
    error: {
      name: 'RecordTooLargeError',
      code: 'TROUPE_RECORD_TOO_LARGE',
      actor: 'upload',
      messageId: big.id,
      limit: 1_048_576,
      message: new RegExp(`message ${big.id} for upload is 1100\\d{3} bytes as a Kinesis record \\(data \\+ partition key\\), over the 1048576-byte limit of stream "${stream}"`),
    },
  })
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 1, 'the others went on in one call: u1#0 and u1#2 aggregated, and geoIp')
  t.match(report.results[2], { status: 'sent' }, 'a later message of the same key is not held back: the big one can never be sent')
  t.equal((await readStream(kinesis, stream)).length, 3)
})

t.test('the record size limit comes from the stream (MaxRecordSizeInKiB), asked once', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis)
  // kinesalite has no large records: report a 1 KiB limit the way a stream that sets it does.
  ;(kinesis.middlewareStack as unknown as { add(m: unknown, o: unknown): void }).add(
    (next: (a: unknown) => Promise<{ output: { StreamDescriptionSummary?: Record<string, unknown> } }>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const result = await next(args)
        if (context.commandName === 'DescribeStreamSummaryCommand') result.output.StreamDescriptionSummary!.MaxRecordSizeInKiB = 1
        return result
      },
    { step: 'initialize', name: 'tinyRecords' },
  )
  const transport = transportFor(t, { client: kinesis, stream })
  const before = counter.snapshot()
  const small = message('note', '', { text: 'x'.repeat(100) })
  const large = message('note', '', { text: 'x'.repeat(2_000) })
  const report = await transport.send([small, large])
  t.match(report.results, [{ status: 'sent' }, { status: 'failed', error: { code: 'TROUPE_RECORD_TOO_LARGE', limit: 1024, message: /over the 1024-byte limit/ } }])
  await transport.send([message('note', '', { text: 'again' })])
  t.equal(counter.since(before).byApi['Kinesis.DescribeStreamSummary']?.requests, 1, 'one DescribeStreamSummary for both sends')
})

t.test('priority streams: by actor type and by message, one call per stream', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const [main, urgent, bulk] = [await createStream(kinesis, 1, 'main'), await createStream(kinesis, 1, 'urgent'), await createStream(kinesis, 1, 'bulk')]
  const router = new Router({
    defaultStream: main,
    streams: { alert: urgent },
    priorities: { high: urgent, low: bulk },
    priorityOf: (e) => (e.body as { priority?: string }).priority,
  })
  const transport = transportFor(t, { client: kinesis, router })
  const messages = [
    message('pageView', '', { n: 0 }),
    message('alert', '', { n: 1 }),
    message('pageView', '', { n: 2, priority: 'high' }),
    message('report', 'daily', { n: 3, priority: 'low' }),
    message('pageView', '', { n: 4 }),
    message('pageView', '', { n: 5, priority: 'nope' }),
  ]
  const before = counter.snapshot()
  const report = await transport.send(messages)
  t.equal(report.sent, 5)
  t.match(report.results[5], { status: 'failed', error: { code: 'TROUPE_CONFIG', message: /priority "nope"/ } }, 'an unknown priority fails that message alone')
  t.strictSame(
    report.results.map((r) => r.stream),
    [main, urgent, urgent, bulk, main, undefined],
  )
  const cost = counter.since(before)
  t.equal(cost.byApi['Kinesis.PutRecords']?.requests, 3, 'one call per stream')
  t.equal(cost.byApi['Kinesis.DescribeStreamSummary']?.requests, 3, 'one limit per stream')
  const ns = async (stream: string) => (await readStream(kinesis, stream)).map((r) => (r.envelope.body as { n: number }).n)
  t.strictSame(await ns(main), [0, 4])
  t.strictSame(await ns(urgent), [1, 2])
  t.strictSame(await ns(bulk), [3])
})

t.test('enqueue lingers to fill a batch, keeps order with send, and close() ends it', async (t) => {
  const { kinesis, counter } = kinesisFor(t)
  const stream = await createStream(kinesis, 1)
  const transport = transportFor(t, { client: kinesis, stream, lingerMs: 20 })
  await transport.recordLimit(stream)
  const before = counter.snapshot()
  const pending = Array.from({ length: 40 }, (_, n) => transport.enqueue(message('pageView', '', { n })))
  t.equal(counter.since(before).total.requests, 0, 'nothing sent yet: lingering')
  const results = await Promise.all(pending)
  t.ok(results.every((r) => r.status === 'sent'))
  t.equal(counter.since(before).byApi['Kinesis.PutRecords']?.requests, 1, '40 enqueued messages, one call')

  // A message enqueued, then one sent directly: the enqueued one goes first.
  const first = transport.enqueue(message('counter', 'k', { n: 100 }))
  const second = await transport.send([message('counter', 'k', { n: 101 })])
  ok(t, second)
  t.equal((await first).status, 'sent')
  const keyed = (await readStream(kinesis, stream)).filter((r) => r.partitionKey === 'counter#k').map((r) => (r.envelope.body as { n: number }).n)
  t.strictSame(keyed, [100, 101])

  // A full batch does not wait for the linger.
  const many = new KinesisTransport({ client: kinesis, router: new Router({ defaultStream: stream }), lingerMs: 60_000, maxBatchRecords: 10 })
  const tenth = Array.from({ length: 10 }, (_, n) => many.enqueue(message('pageView', '', { n })))
  t.ok((await Promise.all(tenth)).every((r) => r.status === 'sent'), 'sent without waiting a minute')
  await many.close()

  await transport.close()
  const late = await transport.send([message('pageView', '', { n: 0 })])
  t.match(late.results[0], { status: 'failed', error: { code: 'TROUPE_STOPPED' } })
  await transport.flush()
})

t.test('an envelope that cannot be encoded fails alone; a missing stream fails its messages with the AWS error', async (t) => {
  const { kinesis } = kinesisFor(t)
  const stream = await createStream(kinesis)
  const transport = transportFor(t, { client: kinesis, stream })
  const bad = message('pageView', '', { n: 1 }, 'x'.repeat(300))
  const report = await transport.send([message('pageView', '', { n: 0 }), bad, message('pageView', '', { n: 2 })])
  t.equal(report.sent, 2)
  t.match(report.results[1], { status: 'failed', error: { code: 'TROUPE_INVALID_ENVELOPE', message: /"id" must be a string of 1 to 256 characters/ } })

  const nowhere = transportFor(t, { client: kinesis, stream: 'no-such-stream' })
  const lost = await nowhere.send([message('pageView', '', { n: 0 })])
  t.match(lost.results[0], {
    status: 'failed',
    error: { code: 'TROUPE_SEND_FAILED', errorCode: 'ResourceNotFoundException', message: /DescribeStreamSummary failed/ },
  })
})

t.test('options are checked', async (t) => {
  const { kinesis } = kinesisFor(t)
  const router = new Router({ defaultStream: 's' })
  t.throws(() => new KinesisTransport({ client: kinesis, router, maxBatchRecords: 501 }), { code: 'TROUPE_CONFIG', message: /maxBatchRecords must be a whole number from 1 to 500/ })
  t.throws(() => new KinesisTransport({ client: kinesis, router, maxBatchBytes: 6 * 1024 * 1024 }), { code: 'TROUPE_CONFIG' })
  t.throws(() => new KinesisTransport({ client: kinesis, router, ordering: 'loose' as never }), { code: 'TROUPE_CONFIG' })
  t.throws(() => new KinesisTransport({ client: kinesis } as never), { code: 'TROUPE_CONFIG' })
})
