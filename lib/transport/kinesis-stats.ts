// What a Kinesis transport counts: its calls to Kinesis, and what became of the records.

/** What the transport did since it was made. */
export interface KinesisTransportStats {
  /** PutRecords calls (each may be several HTTP attempts inside the SDK). */
  calls: number
  /** Calls that failed as a whole, after the SDK's retries. */
  failedCalls: number
  /** DescribeStreamSummary calls (one per stream, to learn its record size). */
  describeCalls: number
  /** Messages written. */
  recordsSent: number
  /** Aggregate records written (each carried several messages of one key). */
  aggregatesSent: number
  /** Records put back for another attempt. */
  recordsRetried: number
  recordsFailed: number
  /** Records accepted ahead of an earlier, failed record of their key (`batched` only). */
  recordsOvertaking: number
}

/** The counts of a transport just made. */
export function emptyStats(): KinesisTransportStats {
  return {
    calls: 0,
    failedCalls: 0,
    describeCalls: 0,
    recordsSent: 0,
    aggregatesSent: 0,
    recordsRetried: 0,
    recordsFailed: 0,
    recordsOvertaking: 0,
  }
}
