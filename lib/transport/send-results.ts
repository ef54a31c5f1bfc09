// What the transport reports per message: where Kinesis put it, or why it was not written.
import type { Envelope } from '../core/envelope.js'
import type { TroupeError } from '../core/errors.js'

/** One message written: where Kinesis put it. */
export interface SentResult {
  status: 'sent'
  messageId: string
  actor: string
  stream: string
  partitionKey: string
  shardId: string
  sequenceNumber: string
  /** Its place in the aggregate record that carried it (0 first); absent when it went as a record of its own. */
  member?: number
  /** PutRecords calls that carried it. */
  attempts: number
  /** Set when Kinesis accepted it while failing an earlier record of its key in the same call (`batched` ordering only). */
  overtook?: true
}

/** One message not written, and why (a TroupeError with a stable `code`). */
export interface FailedResult {
  status: 'failed'
  messageId: string
  actor: string
  stream: string | undefined
  partitionKey: string | undefined
  attempts: number
  error: TroupeError
}

export type SendResult = SentResult | FailedResult

/** The outcome of one `send`: a result per envelope, in the order given. */
export interface SendReport {
  results: SendResult[]
  sent: number
  failed: number
}

/** The result of a message not written; `route` is where it was going, when it got that far. */
export function failedResult(envelope: Envelope, route: { readonly stream: string; readonly partitionKey: string } | undefined, attempts: number, error: TroupeError): FailedResult {
  return {
    status: 'failed',
    messageId: typeof envelope?.id === 'string' ? envelope.id : '(no id)',
    actor: typeof envelope?.type === 'string' ? envelope.type : '(unknown actor)',
    stream: route?.stream,
    partitionKey: route?.partitionKey,
    attempts,
    error,
  }
}
