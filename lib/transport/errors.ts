// Errors a transport reports per message. None is thrown at the caller of `send`: each lands in
// that message's result, and the other messages of the call go on.

import { TroupeError } from '../core/errors.js'

/** Kinesis did not take a message: retries ran out, or the error was one retrying cannot fix. */
export class SendFailedError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    readonly stream: string,
    /** Kinesis's error code (`ProvisionedThroughputExceededException`, `ResourceNotFoundException`, …). */
    readonly errorCode: string,
    readonly attempts: number,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      'TROUPE_SEND_FAILED',
      `message ${messageId} for ${actor} was not written to stream "${stream}"` +
        `${attempts > 0 ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}: ${errorCode}${detail ? `: ${detail}` : ''}`,
      options,
    )
  }
}

/**
 * A message was not sent because an earlier message with the same partition key failed: sending
 * it would have let it overtake that one. Resend both, in order.
 */
export class HeldBackError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    readonly stream: string,
    readonly partitionKey: string,
    /** The earlier message that failed. */
    readonly blockedBy: string,
  ) {
    super(
      'TROUPE_SEND_HELD_BACK',
      `message ${messageId} for ${actor} was not sent to stream "${stream}": message ${blockedBy} with the same partition key ` +
        `(${JSON.stringify(partitionKey.length > 80 ? `${partitionKey.slice(0, 80)}…` : partitionKey)}) failed ahead of it, and sending it alone would break per-key order`,
    )
  }
}
