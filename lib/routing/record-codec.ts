// The record codec: an envelope as a Kinesis record and back.
//
// A record's data is the whole envelope, body included, as superjson text in UTF-8 (see
// record-encoding.ts); its partition key and stream come from the router. Decoding
// (record-decoding.ts) takes a record from anywhere, never throws and never runs away on hostile
// input: it refuses anything that is not an envelope troupe would have sent, with a reason.
// Encoding applies the same rules (envelope-fields.ts, superjson-guard.ts), so whatever this codec
// encodes, it decodes. An aggregate record (aggregate-record.ts) carries a run of one actor
// instance's messages in one record; both kinds decode side by side.

import type { Envelope } from '../core/envelope.js'
import { packAggregate } from './aggregate-record.js'
import { decodeData, type DecodeAllResult, type DecodeResult } from './record-decoding.js'
import { encodeEnvelope } from './record-encoding.js'
import { recordLimits, type Limits, type RecordCodecOptions } from './record-limits.js'
import { errorText, fail, readable } from './record-reasons.js'
import type { Route, Router } from './router.js'

export { AGGREGATE_FIELD, AGGREGATE_OVERHEAD } from './aggregate-record.js'
export { isBase64, type DecodeAllResult, type DecodeResult } from './record-decoding.js'
export type { RecordCodecOptions } from './record-limits.js'

/** An envelope ready for PutRecords. */
export interface EncodedRecord extends Route {
  data: Buffer
  /** What Kinesis counts against its limits: data plus the partition key's UTF-8 bytes. */
  bytes: number
}

/**
 * Turns envelopes into Kinesis records and records back into envelopes.
 *
 * @example
 * const codec = new RecordCodec()
 * const { data, partitionKey, stream } = codec.toRecord(envelope, router)
 * const decoded = codec.decode(event.Records[0].kinesis.data)
 * if (!decoded.ok) deadLetter(decoded.reason)
 */
export class RecordCodec {
  private readonly limits: Limits

  constructor(options: RecordCodecOptions = {}) {
    this.limits = recordLimits(options)
  }

  /** The largest record data this codec writes or reads, in bytes. */
  get maxRecordBytes(): number {
    return this.limits.maxRecordBytes
  }

  /**
   * The record data of one envelope: superjson text, UTF-8. Throws an InvalidEnvelopeError for a
   * field out of range or a body this codec would refuse to decode, a RecordTooLargeError past
   * `maxRecordBytes`.
   */
  encode(envelope: Envelope): Buffer {
    return encodeEnvelope(envelope, this.limits)
  }

  /**
   * The data of an aggregate record: the records `encode` made for a run of one instance's
   * messages, in order, packed into one. Throws a RecordTooLargeError past `maxRecordBytes`.
   */
  encodeAggregate(members: readonly Buffer[], actor: string, messageId: string): Buffer {
    return packAggregate(members, actor, messageId, this.limits.maxRecordBytes)
  }

  /** One envelope as a record: its data, and its stream and partition key from `router`. */
  toRecord(envelope: Envelope, router: Router): EncodedRecord {
    const data = this.encode(envelope)
    const { stream, partitionKey } = router.route(envelope)
    return { stream, partitionKey, data, bytes: data.byteLength + Buffer.byteLength(partitionKey, 'utf8') }
  }

  /**
   * The envelope in a record's data: bytes, or the base64 string of a Lambda event record.
   * Never throws; see record-decoding.ts for what is refused.
   */
  decode(data: Uint8Array | string): DecodeResult {
    const all = this.decodeAll(data)
    if (!all.ok) return all
    if (all.aggregate) return fail(`the record is an aggregate of ${all.envelopes.length} messages where one message was expected`, readable(all.envelopes[0]))
    return { ok: true, envelope: all.envelopes[0]! }
  }

  /**
   * The envelopes in a record's data: one for a plain record, the members in order for an
   * aggregate. Never throws; a bad member refuses the whole record, naming the member.
   */
  decodeAll(data: Uint8Array | string): DecodeAllResult {
    try {
      return decodeData(data, this.limits)
    } catch (e) {
      // Every known failure is caught where it happens; this is the last line, never a throw.
      return fail(`the record could not be decoded (${errorText(e)})`)
    }
  }
}

/** The codec with default limits. */
export const defaultRecordCodec = new RecordCodec()

/** {@link RecordCodec.encode} with the default limits. */
export function encodeRecord(envelope: Envelope): Buffer {
  return defaultRecordCodec.encode(envelope)
}

/** {@link RecordCodec.decode} with the default limits. */
export function decodeRecord(data: Uint8Array | string): DecodeResult {
  return defaultRecordCodec.decode(data)
}
