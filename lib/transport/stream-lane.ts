// One stream's part of the transport: its records in per-key order (partition-queue.ts), taken in
// once the stream's record size limit is known (stream-limits.ts), so that a record over it fails
// alone, before anything is sent, and the rest go on.
import type { TroupeError } from '../core/errors.js'
import { RecordTooLargeError } from '../routing/record-errors.js'
import { SendFailedError } from './errors.js'
import { PartitionQueue, type Ordering } from './partition-queue.js'
import { callError } from './retry-policy.js'
import type { SendItem } from './send-item.js'
import type { StreamLimits } from './stream-limits.js'

/** What a lane asks of its transport: to fail a record, and to start calls once records are ready. */
export interface LaneOwner {
  fail(item: SendItem, error: TroupeError): void
  pump(): void
}

/** The records of one stream on their way. */
export class StreamLane {
  readonly queue: PartitionQueue<SendItem>
  /** The stream's record size limit, once DescribeStreamSummary answered. */
  limit: number | undefined = undefined
  /** Records waiting for the limit, in arrival order. */
  private readonly intake: SendItem[] = []
  private describing = false

  constructor(
    readonly stream: string,
    ordering: Ordering,
    private readonly limits: StreamLimits,
    private readonly owner: LaneOwner,
  ) {
    this.queue = new PartitionQueue<SendItem>(ordering)
  }

  /** Takes a record of this stream: queued behind its key, or held until the stream's limit is known. */
  admit(item: SendItem): void {
    if (this.limit === undefined) {
      this.intake.push(item)
      this.learnLimit()
    } else this.add(item)
  }

  private add(item: SendItem): void {
    if (item.bytes > this.limit!) {
      this.owner.fail(item, new RecordTooLargeError(item.envelope.type, item.envelope.id, item.bytes, this.limit!, this.stream))
    } else this.queue.add(item)
  }

  private learnLimit(): void {
    if (this.describing) return
    this.describing = true
    this.limits.of(this.stream).then(
      (limit) => {
        this.describing = false
        this.limit = limit
        for (const item of this.intake.splice(0)) this.add(item)
        this.owner.pump()
      },
      (e: unknown) => {
        this.describing = false
        const error = callError(e)
        for (const item of this.intake.splice(0)) {
          this.owner.fail(item, new SendFailedError(item.envelope.type, item.envelope.id, this.stream, error.code, 0, `DescribeStreamSummary failed: ${error.message}`, { cause: e }))
        }
        this.owner.pump()
      },
    )
  }
}
