// What became of one batch the local event source mapping delivered: the function's answer read
// as a partial batch response (AWS-SEMANTICS.md §1.2), and the report observers are told.

/** What one invocation of a batch did, for observers (tests, `troupe dev` reports). */
export interface BatchReport {
  shardId: string
  lane: number
  size: number
  firstSequenceNumber: string
  lastSequenceNumber: string
  /** The attempt of this unit of records (1 = first delivery). */
  attempt: number
  outcome: 'success' | 'partial' | 'function-error' | 'bad-response' | 'not-invoked'
  /** The lowest reported sequence number, for `partial`. */
  failedFrom?: string
  duplicate: boolean
  requestId?: string
  /** The function version that ran the batch (after a deploy, the old one's or the new one's). */
  executedVersion?: string
  error?: string
}

type ReadResponse = { kind: 'success' } | { kind: 'partial'; at: number } | { kind: 'bad'; why: string }

/**
 * A handler's answer read as a partial batch response (AWS-SEMANTICS.md §1.2): null, {}, and an
 * empty or null list are success; an identifier that is empty, not a string, under another key,
 * or no sequence number of this batch is a whole-batch failure; else the lowest one.
 */
export function readBatchResponse(response: unknown, batch: readonly { seq: string; big: bigint }[]): ReadResponse {
  if (response === null || response === undefined) return { kind: 'success' }
  if (typeof response !== 'object' || Array.isArray(response)) return { kind: 'bad', why: `the response is ${Array.isArray(response) ? 'an array' : typeof response}, not an object` }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures
  if (failures === null || failures === undefined) return { kind: 'success' }
  if (!Array.isArray(failures)) return { kind: 'bad', why: 'batchItemFailures is not a list' }
  if (failures.length === 0) return { kind: 'success' }
  let lowest: bigint | undefined
  for (const item of failures) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier
    if (typeof id !== 'string' || id === '') return { kind: 'bad', why: `an item has no itemIdentifier string (${JSON.stringify(item)?.slice(0, 100)})` }
    if (!/^(0|[1-9]\d{0,128})$/.test(id)) return { kind: 'bad', why: `itemIdentifier ${JSON.stringify(id.slice(0, 100))} is not a sequence number (an eventID?)` }
    const big = BigInt(id)
    if (!batch.some((r) => r.big === big)) return { kind: 'bad', why: `itemIdentifier ${id} is no record of this batch` }
    if (lowest === undefined || big < lowest) lowest = big
  }
  return { kind: 'partial', at: batch.findIndex((r) => r.big === lowest) }
}
