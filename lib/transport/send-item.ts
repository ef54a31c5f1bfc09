// One message on its way through the Kinesis transport: its record, the attempts so far, why the
// last one failed, and how its result is handed back.
import type { Envelope } from '../core/envelope.js'
import type { QueuedRecord } from './partition-queue.js'
import type { ItemError } from './retry-policy.js'
import type { SendResult } from './send-results.js'

export interface SendItem extends QueuedRecord {
  readonly envelope: Envelope
  readonly stream: string
  readonly data: Buffer
  attempts: number
  lastError: ItemError | undefined
  /** Hands the result back to the sender (the transport's `finish` calls it once). */
  readonly resolve: (result: SendResult) => void
}
