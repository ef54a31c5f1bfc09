// The ceiling: what the local Kinesis itself does with the same number of records, no troupe and
// no state. The records go out in PutRecords calls of 500 (4 calls in flight, failed records
// resent), then every shard is read from TRIM_HORIZON with GetRecords (10,000 a call, no pause)
// until all are read. The clock runs from the first send to the last record read. Counting is
// left to the reader: there is no state, so nothing is verified beyond the records read.
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { msSince, nowNs, round } from '../harness.js'
import { RECORD_BYTES, SHARDS } from './aws-settings.js'
import { awsRun, closeServers, pool, shardIds, type AwsRun } from './aws-stack.js'
import type { BenchSystem } from './system.js'

/** Records per PutRecords call (Kinesis's most). */
const BATCH = 500
/** PutRecords calls in flight (as many as troupe's transport allows). */
const IN_FLIGHT = 4

/** A JSON record of RECORD_BYTES bytes, as a hand-written producer would send it. */
export function record(k: string, by: number, seq: number): Uint8Array {
  const head = `{"k":${JSON.stringify(k)},"by":${by},"seq":${seq},"pad":"`
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, RECORD_BYTES - head.length - 2))}"}`)
}

const SETTINGS = `kinesalite (own process, in memory), stream of ${SHARDS} shards, ${RECORD_BYTES} B records; PutRecords of ${BATCH} records, ${IN_FLIGHT} calls in flight; then GetRecords (Limit 10,000, no pause) on every shard from TRIM_HORIZON until all are read`

export const rawKinesis: BenchSystem = {
  name: 'raw-kinesis',
  notes: {
    W1: `the ceiling: n records, one partition key (as troupe's singleton counter: one shard). ${SETTINGS}`,
    W2: `the ceiling: one record per message, partition key = the actor's key (spread over the shards). ${SETTINGS}`,
  },

  async W1(n) {
    const c = await ceiling()
    return {
      send: (by) => c.add('counter', by),
      done: c.done,
      count: () => c.read,
      metrics: () => c.metrics(n),
      teardown: c.teardown,
    }
  },

  async W2(keys, perActor) {
    const c = await ceiling()
    return {
      send: (k, by) => c.add(k, by),
      done: c.done,
      total: () => c.read,
      metrics: () => c.metrics(keys.length * perActor),
      teardown: c.teardown,
    }
  },

  close: closeServers,
}

async function ceiling() {
  const run: AwsRun = await awsRun('raw')
  const shards = await shardIds(run.kinesis, run.stream)
  run.mark()
  const records: PutRecordsRequestEntry[] = []
  let putMs = 0
  let readMs = 0
  let getRecordsCalls = 0
  const state = {
    read: 0,
    add(k: string, by: number) {
      records.push({ Data: record(k, by, records.length), PartitionKey: k })
    },
    async done() {
      const t0 = nowNs()
      const batches = Math.ceil(records.length / BATCH)
      await pool(IN_FLIGHT, batches, async (b) => {
        let pending = records.slice(b * BATCH, (b + 1) * BATCH)
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (attempt > 10) throw new Error(`PutRecords: ${pending.length} records still failing after 10 attempts`)
          const out = await run.kinesis.send(new PutRecordsCommand({ StreamName: run.stream, Records: pending }))
          pending = pending.filter((_, i) => out.Records?.[i]?.ErrorCode !== undefined)
        }
      })
      putMs = msSince(t0)
      const t1 = nowNs()
      const expected = records.length
      await Promise.all(
        shards.map(async (shardId) => {
          const it = await run.kinesis.send(new GetShardIteratorCommand({ StreamName: run.stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
          let iterator = it.ShardIterator
          while (iterator !== undefined && state.read < expected) {
            const out = await run.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
            getRecordsCalls++
            state.read += out.Records?.length ?? 0
            iterator = out.NextShardIterator
            // At the tip of this shard: its share is read (all records were put before reading).
            if ((out.Records?.length ?? 0) === 0 && (out.MillisBehindLatest ?? 0) === 0) break
          }
        }),
      )
      readMs = msSince(t1)
      if (state.read !== expected) throw new Error(`read ${state.read} records, put ${expected}`)
    },
    metrics(messages: number): Record<string, number> {
      return {
        ...run.metrics(messages),
        record_bytes: RECORD_BYTES,
        put_ms: round(putMs),
        read_ms: round(readMs),
        put_records_per_s: Math.round(records.length / (putMs / 1000)),
        read_records_per_s: Math.round(records.length / (readMs / 1000)),
        get_records_calls: getRecordsCalls,
      }
    },
    teardown: () => run.teardown(),
  }
  return state
}
