// Record data back into envelopes. Decoding takes a record from anywhere: a GetRecords result
// (bytes) or a Lambda event (the base64 string in `kinesis.data`). It never throws and never runs
// away on hostile input; it returns `{ ok: false, reason }` for anything that is not an envelope
// troupe would have sent:
// - bytes over `maxRecordBytes` (checked before base64 or UTF-8 decoding), bad base64, bad UTF-8;
// - JSON nested too deep (counted on the text before parsing), bad or truncated JSON;
// - `__proto__` keys anywhere, superjson metadata through `__proto__`/`constructor`/`prototype`,
//   types troupe never sends, metadata shaped to make superjson work quadratically, long BigInt
//   or RegExp literals (see superjson-guard.ts);
// - a field of the wrong type or out of range (see envelope-fields.ts);
// - an aggregate record (aggregate-record.ts) with a bad member, or members of different instances.
import superjson from 'superjson'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import type { ForkMembership } from '../core/fork.js'
import { AGGREGATE_FIELD, AGGREGATE_START } from './aggregate-record.js'
import { checkFields } from './envelope-fields.js'
import type { Limits } from './record-limits.js'
import { describe, errorText, fail, readable } from './record-reasons.js'
import { checkSuperjsonDocument, isPlainObject, isSuperjsonDocument, scanJson } from './superjson-guard.js'

/** What decoding one record gave: an envelope, or why not (with the id and actor when readable). */
export type DecodeResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; reason: string; messageId?: string; actor?: string }

/** What decoding one record gave: its envelopes (one, or an aggregate's members in order), or why not. */
export type DecodeAllResult =
  | { ok: true; envelopes: Envelope[]; aggregate: boolean }
  | { ok: false; reason: string; messageId?: string; actor?: string }

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Whether a Lambda event's record data is base64 as Kinesis writes it (padded, standard alphabet). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text)
}
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The envelopes in a record's data, or why not; throws only on a failure no check foresaw. */
export function decodeData(data: Uint8Array | string, limits: Limits): DecodeAllResult {
  const max = limits.maxRecordBytes
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
  const written = scanJson(text, 2 * limits.maxDepth + (aggregate ? 10 : 8))
  if (written === undefined) return fail(`the record nests deeper than a body of ${limits.maxDepth} levels can`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return fail(`the record is not JSON (${errorText(e)})`)
  }
  // A key written twice where JSON keeps only the last would hide a message: a record that does is refused whole.
  if (isPlainObject(doc)) {
    if (written.top !== Object.keys(doc).length) return fail('the record names a field of its document twice (JSON keeps only the last)')
    const members = aggregate ? doc[AGGREGATE_FIELD] : undefined
    if (Array.isArray(members)) {
      const twice = members.findIndex((m, i) => isPlainObject(m) && Object.keys(m).length !== written.members[i])
      if (twice !== -1) return fail(`member ${twice + 1} of ${members.length} of the aggregate record names a field of its document twice (JSON keeps only the last)`)
    }
  }
  if (aggregate) {
    if (!isPlainObject(doc) || Object.keys(doc).length !== 1) return fail(`the aggregate record must hold the one field "${AGGREGATE_FIELD}"`)
    return decodeAggregate(doc[AGGREGATE_FIELD], limits)
  }
  const one = decodeDocument(doc, limits)
  return one.ok ? { ok: true, envelopes: [one.envelope], aggregate: false } : one
}

function decodeAggregate(members: unknown, limits: Limits): DecodeAllResult {
  if (!Array.isArray(members) || members.length === 0) return fail(`the aggregate record's "${AGGREGATE_FIELD}" must be a list of one or more messages, got ${describe(members)}`)
  const envelopes: Envelope[] = []
  for (let i = 0; i < members.length; i++) {
    const one = decodeDocument(members[i], limits)
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
function decodeDocument(doc: unknown, limits: Limits): DecodeResult {
  if (!isSuperjsonDocument(doc)) return fail('the record is not a superjson document ({ json, meta })')
  const { json, meta } = doc
  if (!isPlainObject(json)) return fail('the record holds no envelope: its superjson `json` is not an object')
  const ids = readable(json)
  const docReason = checkSuperjsonDocument(json, meta, limits)
  if (docReason) return fail(docReason, ids)

  let value: unknown
  try {
    value = superjson.deserialize({ json: json as never, meta: meta as never }, { inPlace: true })
  } catch (e) {
    return fail(`superjson could not decode the record (${errorText(e)})`, ids)
  }
  if (!isPlainObject(value)) return fail('the decoded record is not an envelope object', ids)
  const fieldsReason = checkFields(value, limits, true)
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
  if (v.trace !== undefined) {
    const [parent, state] = typeof v.trace === 'string' ? [v.trace] : (v.trace as unknown as [string, string | undefined])
    envelope.trace = state === undefined ? { parent } : { parent, state }
  }
  if (v.diedAt !== undefined) envelope.diedAt = v.diedAt
  return { ok: true, envelope }
}
