// The record codec: an envelope as a Kinesis record and back.
//
// A record's data is the whole envelope, body included, as superjson text in UTF-8; fields that
// are `undefined` are left out. Its partition key and stream come from the router.
//
// Decoding takes a record from anywhere: a GetRecords result (bytes) or a Lambda event (the
// base64 string in `kinesis.data`). It never throws and never runs away on hostile input; it
// returns `{ ok: false, reason }` for anything that is not an envelope troupe would have sent:
// - bytes over `maxRecordBytes` (checked before base64 or UTF-8 decoding), bad base64, bad UTF-8;
// - JSON nested too deep (counted on the text before parsing), bad or truncated JSON;
// - `__proto__` keys anywhere, superjson metadata through `__proto__`/`constructor`/`prototype`,
//   types troupe never sends, metadata shaped to make superjson work quadratically, long BigInt
//   or RegExp literals (see superjson-guard.ts);
// - a field of the wrong type or out of range (ids ≤ 256 characters, `attempt` a whole number,
//   `sentAt` a finite number, `fork` `{ forkId, index }`, `origin` a lane, two positions and an
//   index — on the wire the list `[lane, pos, i, fence]`, the fields every message carries).
// Unknown fields: ignored and dropped by default, so a newer sender may add a field while older
// hosts still run (rolling deploys); `unknownFields: 'reject'` refuses them instead.
//
// Encoding applies the same rules, so whatever this codec encodes, it decodes: a message that
// could not be read back fails at send time with a clear error, not later as a dead letter.
//
// An aggregate record carries a run of one actor instance's messages in one record, so a hot key
// keeps strict order at one PutRecords entry per run instead of per message (Kinesis accepts or
// fails a record whole). Its data is `{"@troupe.aggregate":[doc, doc, …]}`, each doc the superjson
// document a single record would hold, so packing is byte concatenation, not a second serialise.
// An aggregate's text starts with `{"@troupe.aggregate":`, a single envelope's with `{"json":`,
// so both kinds decode side by side (rolling deploys). Every member passes the rules above; the
// members must share type and key; an aggregate with one bad member is refused whole, naming it.

import superjson from 'superjson'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import { ConfigError } from '../core/errors.js'
import type { ForkMembership } from '../core/fork.js'
import { comparePosition, POSITION } from '../core/position.js'
import { LARGEST_MAX_RECORD_BYTES } from './kinesis-limits.js'
import { InvalidEnvelopeError, RecordTooLargeError } from './record-errors.js'
import type { Route, Router } from './router.js'
import { checkSuperjsonDocument, isPlainObject, nestingExceeds, type GuardLimits } from './superjson-guard.js'

export interface RecordCodecOptions {
  /**
   * Largest record data accepted, in bytes, checked before anything is decoded. The default is the
   * largest record any Kinesis stream takes; the transport also checks each stream's own limit.
   * @default 10 MiB
   */
  maxRecordBytes?: number
  /** Nesting of arrays and objects allowed in a body (a Map counts two: entries, then pairs). @default 64 */
  maxDepth?: number
  /** Longest instance key, in characters. @default 1024 */
  maxKeyLength?: number
  /** Longest BigInt (digits) or RegExp (source) in a body; both parse in more than linear time. @default 10000 */
  maxLiteralLength?: number
  /** What to do with envelope fields this version does not know. @default 'ignore' */
  unknownFields?: 'ignore' | 'reject'
}

/** What decoding one record gave: an envelope, or why not (with the id and actor when readable). */
export type DecodeResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; reason: string; messageId?: string; actor?: string }

/** What decoding one record gave: its envelopes (one, or an aggregate's members in order), or why not. */
export type DecodeAllResult =
  | { ok: true; envelopes: Envelope[]; aggregate: boolean }
  | { ok: false; reason: string; messageId?: string; actor?: string }

/** The top field of an aggregate record. */
export const AGGREGATE_FIELD = '@troupe.aggregate'
/** How an aggregate record's text starts; nothing else this codec writes does. */
const AGGREGATE_START = `{${JSON.stringify(AGGREGATE_FIELD)}:`
const AGGREGATE_HEAD = Buffer.from(`${AGGREGATE_START}[`, 'utf8')
const AGGREGATE_TAIL = Buffer.from(']}', 'utf8')
const COMMA = Buffer.from(',', 'utf8')

/** Bytes an aggregate adds to its members' data: its wrapper once, and a comma per member (one too many, to keep the sum simple). */
export const AGGREGATE_OVERHEAD = {
  runOverheadBytes: AGGREGATE_HEAD.byteLength + AGGREGATE_TAIL.byteLength,
  memberOverheadBytes: COMMA.byteLength,
} as const

/** An envelope ready for PutRecords. */
export interface EncodedRecord extends Route {
  data: Buffer
  /** What Kinesis counts against its limits: data plus the partition key's UTF-8 bytes. */
  bytes: number
}

/** Ids (message, correlation, parent, cause), actor types and reply targets. */
const MAX_ID_LENGTH = 256
/** Reasons quote their input; keep them readable. */
const MAX_REASON_LENGTH = 500

const FIELDS = new Set([
  'id',
  'type',
  'key',
  'body',
  'correlationId',
  'parentId',
  'causationId',
  'attempt',
  'sentAt',
  'replyTo',
  'deadline',
  'fork',
  'receipt',
  'origin',
  'control',
])
const FORK_FIELDS = new Set(['forkId', 'index'])
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Whether a Lambda event's record data is base64 as Kinesis writes it (padded, standard alphabet). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text)
}
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

interface Limits extends GuardLimits {
  maxRecordBytes: number
  maxKeyLength: number
  rejectUnknown: boolean
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
    this.limits = {
      maxRecordBytes: positiveInt(options.maxRecordBytes, LARGEST_MAX_RECORD_BYTES, 'maxRecordBytes'),
      maxDepth: positiveInt(options.maxDepth, 64, 'maxDepth'),
      maxKeyLength: positiveInt(options.maxKeyLength, 1024, 'maxKeyLength'),
      maxLiteralLength: positiveInt(options.maxLiteralLength, 10_000, 'maxLiteralLength'),
      rejectUnknown: unknownFields(options.unknownFields),
    }
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
    const { actor, messageId } = names(envelope)
    const invalid = (reason: string, cause?: unknown) => new InvalidEnvelopeError(actor, messageId, reason, cause === undefined ? undefined : { cause })
    if (envelope === null || typeof envelope !== 'object') throw invalid('the envelope is not an object')
    const fieldsReason = checkFields(envelope as unknown as Record<string, unknown>, this.limits, false)
    if (fieldsReason) throw invalid(fieldsReason)

    const plain: Record<string, unknown> = { id: envelope.id, type: envelope.type, key: envelope.key }
    if (envelope.body !== undefined) plain.body = envelope.body
    plain.correlationId = envelope.correlationId
    if (envelope.parentId !== undefined) plain.parentId = envelope.parentId
    if (envelope.causationId !== undefined) plain.causationId = envelope.causationId
    plain.attempt = envelope.attempt
    plain.sentAt = envelope.sentAt
    if (envelope.replyTo !== undefined) plain.replyTo = envelope.replyTo
    if (envelope.deadline !== undefined) plain.deadline = envelope.deadline
    if (envelope.fork !== undefined) plain.fork = { forkId: envelope.fork.forkId, index: envelope.fork.index }
    if (envelope.receipt !== undefined) plain.receipt = envelope.receipt
    if (envelope.origin !== undefined) plain.origin = [envelope.origin.lane, envelope.origin.pos, envelope.origin.i, envelope.origin.fence]
    if (envelope.control !== undefined) plain.control = envelope.control

    let doc: ReturnType<typeof superjson.serialize>
    try {
      doc = superjson.serialize(plain as Parameters<typeof superjson.serialize>[0])
    } catch (e) {
      // A body nested thousands deep exhausts superjson's recursion: say so, with the limit.
      if (bodyNestsDeeper(envelope.body, this.limits.maxDepth)) throw invalid(`the body nests deeper than ${this.limits.maxDepth} levels`, e)
      throw invalid(`superjson cannot encode its body (${errorText(e)})`, e)
    }
    const docReason = checkSuperjsonDocument(doc.json as Record<string, unknown>, doc.meta, this.limits)
    if (docReason) throw invalid(docReason)
    const data = Buffer.from(JSON.stringify(doc), 'utf8')
    if (data.byteLength > this.limits.maxRecordBytes) {
      throw new RecordTooLargeError(actor, messageId, data.byteLength, this.limits.maxRecordBytes, undefined)
    }
    return data
  }

  /**
   * The data of an aggregate record: the records `encode` made for a run of one instance's
   * messages, in order, packed into one. Throws a RecordTooLargeError past `maxRecordBytes`.
   */
  encodeAggregate(members: readonly Buffer[], actor: string, messageId: string): Buffer {
    const parts: Buffer[] = [AGGREGATE_HEAD]
    members.forEach((m, i) => {
      if (i > 0) parts.push(COMMA)
      parts.push(m)
    })
    parts.push(AGGREGATE_TAIL)
    const data = Buffer.concat(parts)
    if (data.byteLength > this.limits.maxRecordBytes) throw new RecordTooLargeError(actor, messageId, data.byteLength, this.limits.maxRecordBytes, undefined)
    return data
  }

  /** One envelope as a record: its data, and its stream and partition key from `router`. */
  toRecord(envelope: Envelope, router: Router): EncodedRecord {
    const data = this.encode(envelope)
    const { stream, partitionKey } = router.route(envelope)
    return { stream, partitionKey, data, bytes: data.byteLength + Buffer.byteLength(partitionKey, 'utf8') }
  }

  /**
   * The envelope in a record's data: bytes, or the base64 string of a Lambda event record.
   * Never throws; see the top of this file for what is refused.
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
      return this.decodeOrFail(data)
    } catch (e) {
      // Every known failure is caught where it happens; this is the last line, never a throw.
      return fail(`the record could not be decoded (${errorText(e)})`)
    }
  }

  private decodeOrFail(data: Uint8Array | string): DecodeAllResult {
    const max = this.limits.maxRecordBytes
    let bytes: Uint8Array
    if (typeof data === 'string') {
      if (data.length > Math.ceil(max / 3) * 4) {
        return fail(`the record's base64 data is ${data.length} characters, more than a record of ${max} bytes takes`)
      }
      if (!isBase64(data)) return fail('the record data is not valid base64')
      bytes = Buffer.from(data, 'base64')
    } else if (data instanceof Uint8Array) {
      bytes = data
    } else {
      return fail(`the record data is ${describe(data)}, not bytes or a base64 string`)
    }
    if (bytes.byteLength > max) return fail(`the record is ${bytes.byteLength} bytes, over the limit of ${max}`)
    if (bytes.byteLength === 0) return fail('the record is empty')

    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      return fail('the record is not valid UTF-8')
    }
    // Aggregates are written by this codec alone, so they start with its exact head.
    const aggregate = text.startsWith(AGGREGATE_START)
    // Metadata nests up to twice as deep as the body it annotates, plus the wrapper (and an aggregate's two levels).
    if (nestingExceeds(text, 2 * this.limits.maxDepth + (aggregate ? 10 : 8))) {
      return fail(`the record nests deeper than a body of ${this.limits.maxDepth} levels can`)
    }
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      return fail(`the record is not JSON (${errorText(e)})`)
    }
    if (aggregate) {
      if (!isPlainObject(doc) || Object.keys(doc).length !== 1) return fail(`the aggregate record must hold the one field "${AGGREGATE_FIELD}"`)
      return this.decodeAggregate(doc[AGGREGATE_FIELD])
    }
    const one = this.decodeDocument(doc)
    return one.ok ? { ok: true, envelopes: [one.envelope], aggregate: false } : one
  }

  private decodeAggregate(members: unknown): DecodeAllResult {
    if (!Array.isArray(members) || members.length === 0) return fail(`the aggregate record's "${AGGREGATE_FIELD}" must be a list of one or more messages, got ${describe(members)}`)
    const envelopes: Envelope[] = []
    for (let i = 0; i < members.length; i++) {
      const one = this.decodeDocument(members[i])
      if (!one.ok) return { ...one, reason: `member ${i + 1} of ${members.length} of the aggregate record: ${one.reason}` }
      const first = envelopes[0]
      const e = one.envelope
      if (first !== undefined && (e.type !== first.type || e.key !== first.key)) {
        return fail(
          `member ${i + 1} of ${members.length} of the aggregate record is for ${e.type} (key of ${e.key.length} characters), ` +
            `member 1 for ${first.type} (key of ${first.key.length} characters); one aggregate carries one actor instance`,
          { actor: e.type, messageId: e.id },
        )
      }
      envelopes.push(e)
    }
    return { ok: true, envelopes, aggregate: true }
  }

  /** One envelope from a parsed superjson document `{ json, meta }`. */
  private decodeDocument(doc: unknown): DecodeResult {
    if (!isPlainObject(doc) || !Object.hasOwn(doc, 'json')) return fail('the record is not a superjson document ({ json, meta })')
    const { json, meta } = doc
    if (!isPlainObject(json)) return fail('the record holds no envelope: its superjson `json` is not an object')
    const ids = readable(json)
    const docReason = checkSuperjsonDocument(json, meta, this.limits)
    if (docReason) return fail(docReason, ids)

    let value: unknown
    try {
      value = superjson.deserialize({ json: json as never, meta: meta as never }, { inPlace: true })
    } catch (e) {
      return fail(`superjson could not decode the record (${errorText(e)})`, ids)
    }
    if (!isPlainObject(value)) return fail('the decoded record is not an envelope object', ids)
    const fieldsReason = checkFields(value, this.limits, true)
    if (fieldsReason) return fail(fieldsReason, ids)
    // Checked above: every field has its type. Fresh objects only, so nothing of the record's
    // own objects but the body is kept (and nothing unknown rides along).
    const v = value as unknown as Envelope
    const fork: ForkMembership | undefined = v.fork === undefined ? undefined : { forkId: v.fork.forkId, index: v.fork.index }
    const envelope = makeEnvelope({
      id: v.id,
      type: v.type,
      key: v.key,
      body: v.body,
      correlationId: v.correlationId,
      parentId: v.parentId,
      causationId: v.causationId,
      attempt: v.attempt,
      sentAt: v.sentAt,
      replyTo: v.replyTo,
      deadline: v.deadline,
      fork,
    })
    if (v.receipt !== undefined) envelope.receipt = v.receipt
    if (v.origin !== undefined) {
      const [lane, pos, i, fence] = v.origin as unknown as [string, string, number, string]
      envelope.origin = { lane, pos, i, fence }
    }
    if (v.control !== undefined) envelope.control = v.control
    return { ok: true, envelope }
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

/**
 * True when a body to encode nests objects, arrays, Maps and Sets deeper than `limit` (a Map's
 * entries count two, as on the wire). Each object is walked once: a body that refers to itself
 * is as deep as its tree, which superjson sends once.
 */
function bodyNestsDeeper(body: unknown, limit: number): boolean {
  if (body === null || typeof body !== 'object') return false
  const seen = new Set<object>()
  const stack: [unknown, number][] = [[body, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    // Dates, RegExps and the like are strings on the wire: no level.
    if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof Date || v instanceof RegExp || v instanceof Error) continue
    if (depth > limit) return true
    seen.add(v)
    if (v instanceof Map) for (const [k, x] of v) stack.push([k, depth + 2], [x, depth + 2])
    else if (v instanceof Set) for (const x of v) stack.push([x, depth + 1])
    else for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1])
  }
  return false
}

/**
 * Why the fields of `e` do not make an envelope, or undefined. `decoding` is true for what came off
 * a stream (unknown fields count there); an envelope being encoded may carry extra properties.
 */
function checkFields(e: Record<string, unknown>, limits: Limits, decoding: boolean): string | undefined {
  const has = (k: string) => Object.hasOwn(e, k) && e[k] !== undefined
  return (
    text(e, 'id', 1, MAX_ID_LENGTH, true) ??
    text(e, 'type', 1, MAX_ID_LENGTH, true) ??
    text(e, 'key', 0, limits.maxKeyLength, true) ??
    text(e, 'correlationId', 1, MAX_ID_LENGTH, true) ??
    text(e, 'parentId', 1, MAX_ID_LENGTH, false) ??
    text(e, 'causationId', 1, MAX_ID_LENGTH, false) ??
    text(e, 'replyTo', 1, MAX_ID_LENGTH, false) ??
    (Number.isSafeInteger(e.attempt) && (e.attempt as number) >= 0 ? undefined : `the field "attempt" must be a whole number from 0 up, got ${describe(e.attempt)}`) ??
    (Number.isFinite(e.sentAt) ? undefined : `the field "sentAt" must be a finite number (epoch ms), got ${describe(e.sentAt)}`) ??
    (!has('deadline') || Number.isFinite(e.deadline) ? undefined : `the field "deadline" must be a finite number (epoch ms) when set, got ${describe(e.deadline)}`) ??
    (has('fork') ? checkFork(e.fork, limits, decoding) : undefined) ??
    (!has('receipt') || e.receipt === 'status' || e.receipt === 'reply' ? undefined : `the field "receipt" must be "status" or "reply" when set, got ${describe(e.receipt)}`) ??
    (has('origin') ? checkOrigin(e.origin, decoding) : undefined) ??
    (!has('control') || e.control === 'flush' ? undefined : `the field "control" must be "flush" when set, got ${describe(e.control)}`) ??
    (decoding && limits.rejectUnknown ? unknown(Object.keys(e), FIELDS, 'the envelope') : undefined)
  )
}

function checkFork(fork: unknown, limits: Limits, decoding: boolean): string | undefined {
  if (!isPlainObject(fork)) return `the field "fork" must be { forkId, index } when set, got ${describe(fork)}`
  return (
    text(fork, 'forkId', 1, MAX_ID_LENGTH, true, 'fork.forkId') ??
    (Number.isSafeInteger(fork.index) && (fork.index as number) >= 0 ? undefined : `the field "fork.index" must be a whole number from 0 up, got ${describe(fork.index)}`) ??
    (decoding && limits.rejectUnknown ? unknown(Object.keys(fork), FORK_FIELDS, 'the field "fork"') : undefined)
  )
}

/** An origin: `{ lane, pos, i, fence }` on an envelope, the list `[lane, pos, i, fence]` in a record. */
function checkOrigin(origin: unknown, decoding: boolean): string | undefined {
  const shape = decoding ? 'the list [lane, pos, i, fence]' : '{ lane, pos, i, fence }'
  let parts: unknown[]
  if (decoding) {
    if (!Array.isArray(origin) || origin.length !== 4) return `the field "origin" must be ${shape} when set, got ${describe(origin)}`
    parts = origin
  } else {
    if (!isPlainObject(origin)) return `the field "origin" must be ${shape} when set, got ${describe(origin)}`
    parts = [origin.lane, origin.pos, origin.i, origin.fence]
  }
  const [lane, pos, i, fence] = parts
  if (typeof lane !== 'string' || lane.length === 0 || lane.length > MAX_ID_LENGTH) return `the origin's lane must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${describe(lane)}`
  if (typeof pos !== 'string' || !POSITION.test(pos)) return `the origin's position must be a decimal number (with ":member" for a message of an aggregate record), got ${describe(pos)}`
  if (!Number.isSafeInteger(i) || (i as number) < 0) return `the origin's index must be a whole number from 0 up, got ${describe(i)}`
  if (typeof fence !== 'string' || !POSITION.test(fence)) return `the origin's fence must be a decimal number (with ":member" for a message of an aggregate record), got ${describe(fence)}`
  // A lane's fence is never past the message it rides on; one that is would make receivers forget copies to come.
  if (comparePosition(fence, pos) > 0) return `the origin's fence ${fence} is after its position ${pos}`
  return undefined
}

function text(o: Record<string, unknown>, field: string, min: number, max: number, required: boolean, label = field): string | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined
  if (v === undefined && !required) return undefined
  if (typeof v === 'string' && v.length >= min && v.length <= max) return undefined
  return `the field "${label}" must be a string of ${min} to ${max} characters${required ? '' : ' when set'}, got ${describe(v)}`
}

function unknown(keys: string[], known: ReadonlySet<string>, where: string): string | undefined {
  const extra = keys.filter((k) => !known.has(k))
  if (extra.length === 0) return undefined
  return `${where} has unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`
}

function fail(reason: string, ids: { actor?: string; messageId?: string } = {}): { ok: false; reason: string; messageId?: string; actor?: string } {
  const result: { ok: false; reason: string; messageId?: string; actor?: string } = {
    ok: false,
    reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason,
  }
  if (ids.messageId !== undefined) result.messageId = ids.messageId
  if (ids.actor !== undefined) result.actor = ids.actor
  return result
}

/** The message id and actor of a record or envelope, when they are sane strings. */
function readable(o: unknown): { actor?: string; messageId?: string } {
  const r = (o !== null && typeof o === 'object' ? o : {}) as Record<string, unknown>
  const sane = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH ? v : undefined)
  const out: { actor?: string; messageId?: string } = {}
  const actor = sane(r.type)
  const messageId = sane(r.id)
  if (actor !== undefined) out.actor = actor
  if (messageId !== undefined) out.messageId = messageId
  return out
}

/** The message id and actor for an error message, with placeholders when not readable. */
function names(o: unknown): { actor: string; messageId: string } {
  const { actor, messageId } = readable(o)
  return { actor: actor ?? '(unknown actor)', messageId: messageId ?? '(no id)' }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : String(value)
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a Date'
  if (typeof value === 'object') return isPlainObject(value) ? 'an object' : `an instance of ${value.constructor?.name ?? 'a class'}`
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`
}

function errorText(e: unknown): string {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  return m.length > 200 ? `${m.slice(0, 200)}…` : m
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`RecordCodecOptions.${name} must be a whole number from 1 up, got ${value}`)
  return value
}

function unknownFields(value: 'ignore' | 'reject' | undefined): boolean {
  if (value === undefined || value === 'ignore') return false
  if (value === 'reject') return true
  throw new ConfigError(`RecordCodecOptions.unknownFields must be 'ignore' or 'reject', got ${JSON.stringify(value)}`)
}
