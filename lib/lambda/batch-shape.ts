// What a Kinesis batch from an event source mapping is, checked before any of it runs: one shard's
// records, in the order of their sequence numbers, each naming its stream by ARN (the mapping
// never sends another). A batch that is not (made by hand, re-driven, or from a misconfigured
// mapping) is refused whole, naming why, instead of half-run: a record without the sequence number
// Kinesis gave it has no place in its shard to be known by (what it applied, what it sent); two
// shards' records share one partial-batch answer, so one shard's unfinished records would be
// reported as the other's; a record that comes after a later one of its lane is taken for a copy
// of what was applied; and a stream read under a name it does not have is another stream's memory
// of what was read.
import { TroupeError } from '../core/errors.js'
import { compareSequence } from '../core/position.js'
import { shardOf, streamOf, type KinesisEventRecord } from '../platform/lambda-events.js'

/** `arn:<partition>:kinesis:<region>:<account>:stream/<name>`, as a mapping names its stream. */
const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[A-Za-z0-9_.-]{1,128}$/
/** A sequence number as Kinesis gives one: decimal digits, no leading zero. */
const SEQUENCE = /^[1-9]\d{0,127}$/

/** Throws TROUPE_BAD_INVOCATION when `records` is no batch a mapping sends; returns its stream and shard. */
export function checkBatchShape(records: readonly unknown[]): { stream: string; shardId: string } {
  let first: { stream: string; shardId: string } | undefined
  let last: string | undefined
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    if (r === null || typeof r !== 'object') throw refused(`record ${i} is ${r === null ? 'null' : typeof r}, not a Kinesis record`)
    const record = r as KinesisEventRecord
    if (typeof record.eventSourceARN !== 'string' || !STREAM_ARN.test(record.eventSourceARN)) {
      throw refused(`record ${i} names no Kinesis stream: its eventSourceARN is ${JSON.stringify(record.eventSourceARN)}`)
    }
    const at = { stream: streamOf(record), shardId: shardOf(record) }
    if (first === undefined) first = at
    else if (at.stream !== first.stream || at.shardId !== first.shardId) {
      throw refused(`a mapping sends one shard's records at a time; record 0 is of ${first.stream}/${first.shardId}, record ${i} of ${at.stream}/${at.shardId}`)
    }
    // A record's place in its shard is its sequence number: what was applied and sent is known by it.
    const sequence = (record.kinesis as { sequenceNumber?: unknown } | undefined)?.sequenceNumber
    if (typeof sequence !== 'string' || !SEQUENCE.test(sequence)) {
      throw refused(`record ${i} of ${at.stream}/${at.shardId} has sequence number ${JSON.stringify(sequence)}; a mapping gives every record the decimal number Kinesis gave it`)
    }
    if (last !== undefined && compareSequence(sequence, last) < 0) {
      throw refused(`record ${i} of ${at.stream}/${at.shardId} has sequence number ${sequence}, lower than the record before it (${last}); a mapping sends a shard's records in order`)
    }
    last = sequence
  }
  return first ?? { stream: '', shardId: '' }
}

function refused(why: string): TroupeError {
  return new TroupeError('TROUPE_BAD_INVOCATION', `this Kinesis batch is none an event source mapping sends, and nothing of it ran: ${why}`)
}
