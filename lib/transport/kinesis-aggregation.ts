// Aggregation (`strict` ordering, on by default): when a key has several messages waiting, its run
// goes as one aggregate record (aggregate-record.ts), up to the stream's record size, so a hot key
// costs one entry per run instead of one call per message. The record is accepted or failed
// whole: its messages settle, retry, back off and give up together, and each gets the record's
// sequence number and its place in it (`member`).
import { AGGREGATE_OVERHEAD } from '../routing/aggregate-record.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { Packing } from './partition-queue.js'
import type { SendItem } from './send-item.js'

/** How a key's run packs into one record of a stream that takes records of `limit` bytes: the same actor instance's messages, while they fit. */
export function aggregatePacking(limit: number, maxBatchBytes: number, codec: RecordCodec): Packing<SendItem> {
  return {
    maxBytes: Math.min(limit, maxBatchBytes, codec.maxRecordBytes),
    ...AGGREGATE_OVERHEAD,
    joins: (a, b) => a.envelope.type === b.envelope.type && a.envelope.key === b.envelope.key,
  }
}

/** One record for a key's run: its messages' records packed in order. */
export function aggregateOf(codec: RecordCodec, run: readonly SendItem[]): Buffer {
  return codec.encodeAggregate(
    run.map((i) => i.data),
    run[0]!.envelope.type,
    run[0]!.envelope.id,
  )
}
