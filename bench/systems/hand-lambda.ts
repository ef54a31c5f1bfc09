// The baseline: what a typical hand-written Kinesis + Lambda + DynamoDB counter does, on the same
// servers. The producer (an API handler) puts one record per message with PutRecord; the
// consumer is the Lambda's handler, fed the way an event source mapping feeds it: per shard one
// batch at a time, and for each record in order, GetItem (consistent) of the counter, add, PutItem.
// The GetRecords loop is written here (an event source mapping does it on AWS, and keeps its
// checkpoints itself, not in your table); it paces itself like troupe's consumer, so the two
// differ in what they do per message, not in how they poll.
import { BatchGetItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand } from '@aws-sdk/client-kinesis'
import { DEFAULT_LAMBDA } from '../../lib/cost/usage.js'
import { modelledInvocations } from '../cost.js'
import { HAND_LAMBDA_MS_PER_INVOCATION } from '../cost-peers.js'
import { POLL_MS, RECORD_BYTES, SHARDS } from './aws-settings.js'
import { awsRun, closeServers, createPlainTable, shardIds, sleep, type AwsRun } from './aws-stack.js'
import { record } from './raw-kinesis.js'
import { signal, type BenchSystem } from './system.js'

/** PutRecord calls in flight: the producer's concurrent requests (API handlers running at once). */
const PRODUCER_IN_FLIGHT = 16
/** Records per GetRecords, as troupe's consumer reads. (A Lambda event source mapping's default batch is 100.) */
const BATCH = 1_000
/** Kinesis allows 5 GetRecords per second per shard; troupe's consumer reads at most that often too. */
const READ_INTERVAL_MS = 200

const SETTINGS = `kinesalite + dynalite (own process, in memory), stream of ${SHARDS} shards, ${RECORD_BYTES} B JSON records; producer: PutRecord per message, ${PRODUCER_IN_FLIGHT} in flight; consumer: per shard one GetRecords (up to ${BATCH}) at most every ${READ_INTERVAL_MS} ms, pollMs ${POLL_MS} at the tip, records handled one after another: GetItem (ConsistentRead) + PutItem of { pk, count }`

export const handLambda: BenchSystem = {
  name: 'hand-lambda',
  notes: {
    W1: `one counter item (pk "counter"), one partition key (one shard). ${SETTINGS}`,
    W2: `one counter item per key, partition key = the key (spread over the shards). ${SETTINGS}`,
  },

  async W1(n) {
    const l = await lambda(n)
    return {
      send: (by) => l.put('counter', by),
      done: l.done,
      count: async () => {
        await l.settle()
        const out = await l.run.dynamodb.send(new GetItemCommand({ TableName: l.run.tableName, Key: { pk: { S: 'counter' } }, ConsistentRead: true }))
        return Number(out.Item?.count?.N ?? -1)
      },
      metrics: l.metrics,
      teardown: l.teardown,
    }
  },

  async W2(keys, perActor) {
    const l = await lambda(keys.length * perActor)
    return {
      send: (k, by) => l.put(k, by),
      done: l.done,
      total: async () => {
        await l.settle()
        let total = 0
        for (let i = 0; i < keys.length; i += 100) {
          let pending: Record<string, AttributeValue>[] = keys.slice(i, i + 100).map((k) => ({ pk: { S: k } }))
          while (pending.length > 0) {
            const out = await l.run.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [l.run.tableName]: { Keys: pending, ConsistentRead: true } } }))
            for (const item of out.Responses?.[l.run.tableName] ?? []) total += Number(item.count?.N ?? 0)
            pending = out.UnprocessedKeys?.[l.run.tableName]?.Keys ?? []
          }
        }
        return total
      },
      metrics: l.metrics,
      teardown: l.teardown,
    }
  },

  close: closeServers,
}

/** A producer and a running consumer on a fresh stream and table; done after `expected` messages. */
async function lambda(expected: number) {
  const run: AwsRun = await awsRun('lambda')
  await createPlainTable(run.dynamodb, run.tableName)
  const { kinesis, dynamodb } = run
  const table = run.tableName
  const finished = signal()
  let failWith!: (e: unknown) => void
  const failed = new Promise<never>((_, reject) => (failWith = reject))
  failed.catch(() => {})
  let handled = 0
  let stopping = false

  // The Lambda's handler: one record at a time, read-modify-write of its counter.
  const handler = async (records: { Data?: Uint8Array }[]) => {
    for (const r of records) {
      const msg = JSON.parse(Buffer.from(r.Data!).toString('utf8')) as { k: string; by: number }
      const got = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: msg.k } }, ConsistentRead: true }))
      const count = Number(got.Item?.count?.N ?? 0) + msg.by
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: msg.k }, count: { N: String(count) } } }))
      if (++handled === expected) finished.resolve()
    }
  }

  // The event source mapping: per shard, a batch at a time, from the oldest record.
  const shards = await shardIds(kinesis, run.stream)
  const iterators = await Promise.all(
    shards.map(async (shardId) => (await kinesis.send(new GetShardIteratorCommand({ StreamName: run.stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator),
  )
  let reads = 0
  const loops = iterators.map(async (first) => {
    let iterator = first
    let lastReadAt = 0
    while (!stopping && iterator !== undefined) {
      await sleep(lastReadAt + READ_INTERVAL_MS - Date.now())
      lastReadAt = Date.now()
      reads++
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: BATCH }))
      iterator = out.NextShardIterator
      const records = out.Records ?? []
      if (records.length === 0) {
        await sleep(POLL_MS)
        continue
      }
      await handler(records)
    }
  })
  for (const loop of loops) loop.catch(failWith)
  run.mark()

  // The producer: one PutRecord per message, a bounded number in flight.
  const queue: { k: string; by: number }[] = []
  let head = 0
  let inFlight = 0
  let seq = 0
  const pump = () => {
    while (inFlight < PRODUCER_IN_FLIGHT && head < queue.length) {
      const { k, by } = queue[head++]!
      inFlight++
      kinesis
        .send(new PutRecordCommand({ StreamName: run.stream, Data: record(k, by, seq++), PartitionKey: k }))
        .then(() => {
          inFlight--
          pump()
        }, failWith)
    }
  }

  let cost: Record<string, number> | undefined
  return {
    run,
    put(k: string, by: number) {
      queue.push({ k, by })
      pump()
    },
    done: () => Promise.race([finished.promise, failed]),
    /** The cost since the mark, taken once the last message is handled (the consumer keeps polling). */
    async settle() {
      // On Lambda each record would come in an event source mapping batch of 100, handled in turn.
      const invocations = modelledInvocations(0, expected, expected, { ...DEFAULT_LAMBDA, msPerInvocation: HAND_LAMBDA_MS_PER_INVOCATION })
      cost = { ...run.metrics(expected, { invocations }), get_records_calls: reads }
    },
    metrics: () => cost ?? {},
    async teardown() {
      stopping = true
      await Promise.allSettled(loops)
      await run.teardown()
    },
  }
}
