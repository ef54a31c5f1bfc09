// The largest record each stream takes, as Kinesis counts it (data plus partition key):
// `MaxRecordSizeInKiB` from DescribeStreamSummary, else 1 MiB. Asked once per stream and kept;
// asked again after a failed answer.
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { DEFAULT_MAX_RECORD_BYTES } from '../routing/kinesis-limits.js'
import type { KinesisTransportStats } from './kinesis-stats.js'

/** The record size limits of the streams a transport writes to. */
export class StreamLimits {
  private readonly limits = new Map<string, Promise<number>>()

  constructor(
    private readonly client: KinesisClient,
    private readonly stats: KinesisTransportStats,
  ) {}

  /** The largest record (data plus partition key, in bytes) `stream` takes. */
  of(stream: string): Promise<number> {
    let limit = this.limits.get(stream)
    if (!limit) {
      this.stats.describeCalls++
      limit = this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream })).then((out) => {
        const kib = out.StreamDescriptionSummary?.MaxRecordSizeInKiB
        return typeof kib === 'number' && kib > 0 ? kib * 1024 : DEFAULT_MAX_RECORD_BYTES
      })
      this.limits.set(stream, limit)
      limit.catch(() => this.limits.delete(stream)) // ask again next time
    }
    return limit
  }
}
