// A lane of the local event source mapping: the records of one shard (or, with
// ParallelizationFactor > 1, of the partition keys hashed to it) in order from the checkpoint,
// the unit of them being retried, and the bisected halves still to deliver after it.
import { createHash } from 'node:crypto'
import { EVENT_OVERHEAD, type Rec } from './kinesis-event-record.js'
import { MAX_SYNC_PAYLOAD_BYTES } from './invoke-result.js'

/** The records a lane retries as one: a bisected half has a fixed size; otherwise the batch is formed anew each time. */
export interface Unit {
  fixedSize?: number
  /** Failed responses so far. */
  attempts: number
  invokes: number
  lastRequestId?: string
  /** The function version that ran its last invocation. */
  lastVersion?: string | undefined
  lastFunctionError?: boolean
  duplicate?: boolean
}

export interface Lane {
  index: number
  queue: Rec[]
  unit: Unit | undefined
  /** Sizes of bisected halves still to deliver after the unit, in order. */
  splits: number[]
  inFlight: boolean
  /** Not before this time (backoff after a failure). */
  notBefore: number
  windowStart: number
  timer: NodeJS.Timeout | undefined
}

export function newLane(index: number): Lane {
  return { index, queue: [], unit: undefined, splits: [], inFlight: false, notBefore: 0, windowStart: 0, timer: undefined }
}

/** The lane of a partition key when ParallelizationFactor > 1: md5(key) mod N (AWS-SEMANTICS.md §2.2, an emulator choice). */
export function laneOf(partitionKey: string, lanes: number): number {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest('hex')
  return Number(BigInt(`0x${digest}`) % BigInt(lanes))
}

/** The records of the next delivery: the unit's fixed size, else up to batchSize and 6 MB. */
export function batchOf(lane: Lane, unit: Unit, batchSize: number): Rec[] {
  const max = Math.min(unit.fixedSize ?? batchSize, lane.queue.length)
  let bytes = EVENT_OVERHEAD
  let n = 0
  while (n < max) {
    const next = bytes + lane.queue[n]!.bytes + (n === 0 ? 0 : 1)
    if (n !== 0 && next > MAX_SYNC_PAYLOAD_BYTES) break
    bytes = next
    n++
  }
  if (unit.fixedSize !== undefined && n < unit.fixedSize) {
    // A bisected half too large for one invocation (it can only shrink): keep what fits, the rest follows as its own half.
    lane.splits.unshift(unit.fixedSize - n)
    unit.fixedSize = n
  }
  return lane.queue.slice(0, n)
}

/** Removes `n` records from the front of a lane (done or discarded), keeping the unit and halves in step. */
export function removeFront(lane: Lane, n: number): void {
  lane.queue.splice(0, n)
  let left = n
  const unit = lane.unit
  if (unit?.fixedSize !== undefined) {
    const d = Math.min(left, unit.fixedSize)
    unit.fixedSize -= d
    left -= d
    if (unit.fixedSize === 0) lane.unit = undefined
  }
  // (A unit without a fixed size has no halves behind it.)
  while (left > 0 && lane.splits.length !== 0) {
    const d = Math.min(left, lane.splits[0]!)
    lane.splits[0]! -= d
    left -= d
    if (lane.splits[0] === 0) lane.splits.shift()
  }
}
