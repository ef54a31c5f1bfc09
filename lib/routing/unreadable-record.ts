// An unreadable record as a dead letter. A record the codec cannot read (bytes that are no
// envelope, a hostile document, a record over the codec's limit, the format of a codec this host
// does not have) has no message to keep, so its letter keeps the record: all of its data, where
// it was read, and the codec's reason. Its envelope is made here (actor `(unreadable)` unless the
// record named one, key '', id from the record when it had a readable one, else from its place).
//
// Replay cannot run such a letter as a message: there is none. It puts the record's bytes back
// on the stream they came from, so a host that can read them now (a codec or actor deployed
// since) takes them as the record they were; a host that still cannot makes them a dead letter
// again. When the replaying process can read them, their messages get a new origin first (a
// replay is a new run: see `withNewOrigins`); otherwise they go back as they were. A Lambda event record whose data was not base64
// names no bytes, so its letter is refused, and stays.
import { createHash } from 'node:crypto'
import { makeEnvelope, type Origin } from '../core/envelope.js'
import { TroupeError } from '../core/errors.js'
import type { CorrelationId, MessageId } from '../core/ids.js'
import { errorRecord, type DeadLetter } from '../core/dead-letter.js'
import { isBase64, type RecordCodec } from './record-codec.js'
import { fitPartitionKey } from './router.js'

/** The actor type of an unreadable record's letter when the record named none. */
export const UNREADABLE_TYPE = '(unreadable)'
/** The error code of an unreadable record's letter. */
export const BAD_RECORD = 'TROUPE_BAD_RECORD'

/** Where an unreadable record was read. */
interface RecordPlace {
  /** `<stream>/<shard id>` */
  shard: string
  sequenceNumber: string
}

/**
 * The body of an unreadable record's dead letter: the record's data, whole, and where it was read.
 * Record bytes (from GetRecords, or a Lambda event's base64) are kept as base64 and counted in
 * bytes; a Lambda event's data that is not valid base64 names no bytes, so it is kept as the text
 * it was and counted in characters.
 */
export type UnreadableRecord = RecordPlace &
  (
    | {
        /** Every byte of the record, base64. */
        base64: string
        /** How many bytes the record holds (decoded; not the base64's characters). */
        bytes: number
      }
    | {
        /** A Lambda event record's data, as it came: not valid base64. */
        text: string
        /** Its length in characters. */
        characters: number
        notBase64: true
      }
  )

export interface UnreadableRecordInput extends RecordPlace {
  /** The record's data: bytes, or a Lambda event record's base64 string. */
  data: Uint8Array | string
  /** Why the codec could not read it. */
  reason: string
  /** The message id, when the codec read that far. */
  messageId?: string | undefined
  /** The actor type, when the codec read that far. */
  actor?: string | undefined
  /** Epoch milliseconds: the letter's `deadAt` and its envelope's `sentAt`. */
  now: number
}

/** The dead letter of a record that is no message troupe can read: with all of its data. */
export function unreadableRecordLetter(input: UnreadableRecordInput): DeadLetter {
  const { data, shard, sequenceNumber } = input
  // Known by its place on the stream, which the stream gave it, never by the id the record claims:
  // anyone who can write a record could otherwise replace another message's letter with it. A
  // record handed to a host without its sequence number (a Lambda batch refuses those; a host
  // driven by hand may not) has its data's digest in place of any that is not a decimal number.
  const place = typeof sequenceNumber === 'string' && /^\d+$/.test(sequenceNumber) ? sequenceNumber : `unnumbered-${digest(data)}`
  const id = `record-${shard}-${place}` as MessageId
  let body: UnreadableRecord
  if (data instanceof Uint8Array) body = { base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'), bytes: data.byteLength, shard, sequenceNumber }
  else if (typeof data === 'string' && isBase64(data)) body = { base64: data, bytes: Buffer.byteLength(data, 'base64'), shard, sequenceNumber }
  else {
    // Not base64, or (from a hand-made event) not even a string: kept as the text it makes.
    const text = typeof data === 'string' ? data : safeText(data)
    body = { text, characters: text.length, notBase64: true, shard, sequenceNumber }
  }
  const envelope = makeEnvelope({ id, type: input.actor ?? UNREADABLE_TYPE, key: '', body, correlationId: id as string as CorrelationId, sentAt: input.now })
  const names = input.messageId === undefined ? '' : ` (it names message ${JSON.stringify(input.messageId.slice(0, 300))})`
  const error = new TroupeError(BAD_RECORD, `record ${place} of ${shard}${names} is not a message troupe can read: ${input.reason}`)
  return { envelope, error: errorRecord(error), attempts: [], deadAt: input.now }
}

/** A record to put back on a stream: what replay does with an unreadable record's letter. */
export interface RecordToPutBack {
  stream: string
  partitionKey: string
  data: Buffer
}

/**
 * The record an unreadable record's letter puts back on its stream, or undefined when the letter
 * is a message's (replay sends those as messages). Throws `TROUPE_NOT_REPLAYABLE`, naming why,
 * when the letter holds no bytes (a Lambda event's data that was not base64, or a letter whose
 * base64 is not whole) or came from a stream not among `streams` (those the replaying system
 * writes to).
 */
export function recordToPutBack(letter: DeadLetter, streams: readonly string[]): RecordToPutBack | undefined {
  const body = letter.envelope.body as Partial<Record<string, unknown>> | null
  if (letter.error.code !== BAD_RECORD || typeof body !== 'object' || body === null || typeof body.shard !== 'string' || typeof body.sequenceNumber !== 'string') return undefined
  const what = `dead letter ${letter.envelope.id} is record ${body.sequenceNumber} of ${body.shard}, which no host could read`
  if (typeof body.base64 !== 'string') {
    const length = typeof body.text === 'string' ? ` (${body.text.length} characters)` : ''
    throw new TroupeError('TROUPE_NOT_REPLAYABLE', `${what}; its Lambda event data was not base64${length}, so there are no bytes to put back on the stream, and it is no message to send. It stays a dead letter`)
  }
  if (!isBase64(body.base64)) {
    throw new TroupeError('TROUPE_NOT_REPLAYABLE', `${what}; its base64 is not whole (${body.base64.length} characters, not base64), so its bytes cannot be put back on the stream. It stays a dead letter`)
  }
  const slash = body.shard.indexOf('/')
  const stream = slash < 0 ? body.shard : body.shard.slice(0, slash)
  if (!streams.includes(stream)) {
    const writes = streams.length === 0 ? 'names no stream' : `writes to ${streams.map((s) => `"${s}"`).join(', ')}`
    throw new TroupeError('TROUPE_NOT_REPLAYABLE', `${what}; replay puts its bytes back on stream "${stream}", which this system does not write to (it ${writes}). It stays a dead letter`)
  }
  return { stream, partitionKey: fitPartitionKey(letter.envelope.id), data: Buffer.from(body.base64, 'base64') }
}

/** A short digest of a record's data, whatever it came as. */
function digest(data: unknown): string {
  const bytes = data instanceof Uint8Array ? data : Buffer.from(typeof data === 'string' ? data : safeText(data))
  return createHash('sha256').update(bytes).digest('hex').slice(0, 24)
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/**
 * The bytes to put back with every message they hold given a new origin (`origin(i)` for the
 * i-th): a replay is a new run, and the old origin may be behind a fence its lane's later copies
 * carried. Bytes `codec` cannot read either go back as they were.
 */
export function withNewOrigins(data: Buffer, codec: RecordCodec, origin: (i: number) => Origin): Buffer {
  const decoded = codec.decodeAll(data)
  if (!decoded.ok) return data
  const encoded = decoded.envelopes.map((e, i) => codec.encode({ ...e, origin: origin(i) }))
  return decoded.aggregate ? codec.encodeAggregate(encoded, decoded.envelopes[0]!.type, decoded.envelopes[0]!.id) : encoded[0]!
}
