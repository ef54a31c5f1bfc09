// Errors raised while turning an envelope into a Kinesis record. Each fails that one message,
// before anything is sent, and never the batch it came with.

import { TroupeError } from '../core/errors.js'

/** An envelope cannot become a record: a field is out of range, or its body cannot be encoded safely. */
export class InvalidEnvelopeError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('TROUPE_INVALID_ENVELOPE', `message ${messageId} for ${actor} cannot be sent as a record: ${reason}`, options)
  }
}

/** A message is larger than a record of its stream may be; nothing was sent. */
export class RecordTooLargeError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    /** The record's size: data plus partition key, in bytes. */
    readonly bytes: number,
    /** The largest record the stream takes, in bytes. */
    readonly limit: number,
    readonly stream: string | undefined,
  ) {
    super(
      'TROUPE_RECORD_TOO_LARGE',
      `message ${messageId} for ${actor} is ${bytes} bytes as a Kinesis record (data + partition key), over the ` +
        `${limit}-byte limit of ${stream === undefined ? 'the record codec' : `stream "${stream}"`}; nothing was sent. ` +
        'Keep messages small and put large payloads in S3 or DynamoDB, sending their keys',
    )
  }
}
