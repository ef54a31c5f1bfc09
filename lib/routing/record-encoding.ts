// An envelope as record data: the whole envelope, body included, as superjson text in UTF-8;
// fields that are `undefined` are left out. Encoding applies the rules decoding does
// (record-decoding.ts), so whatever this codec encodes, it decodes: a message that could not be
// read back fails at send time with a clear error, not later as a dead letter.
import superjson, { type SuperJSONResult, type SuperJSONValue } from 'superjson'
import type { Envelope } from '../core/envelope.js'
import { checkFields } from './envelope-fields.js'
import { InvalidEnvelopeError, RecordTooLargeError } from './record-errors.js'
import type { Limits } from './record-limits.js'
import { errorText, names } from './record-reasons.js'
import { checkSuperjsonDocument } from './superjson-guard.js'
import { plainJson, plainScalar } from '../core/plain-json.js'

/**
 * The record data of one envelope: superjson text, UTF-8. Throws an InvalidEnvelopeError for a
 * field out of range or a body this codec would refuse to decode, a RecordTooLargeError past
 * `maxRecordBytes`.
 */
export function encodeEnvelope(envelope: Envelope, limits: Limits): Buffer {
  if (envelope === null || typeof envelope !== 'object') throw invalid(envelope, 'the envelope is not an object')
  const fieldsReason = checkFields(envelope as unknown as Record<string, unknown>, limits, false)
  if (fieldsReason) throw invalid(envelope, fieldsReason)

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
  if (envelope.trace !== undefined) plain.trace = envelope.trace.state === undefined ? envelope.trace.parent : [envelope.trace.parent, envelope.trace.state]
  if (envelope.diedAt !== undefined) plain.diedAt = envelope.diedAt

  let doc: SuperJSONResult
  try {
    // Decided on what is written (each field was read once, into `plain`): the fields around the
    // body are looked at flat, only the body is walked.
    doc = plainFields(plain) && plainJson(plain.body ?? null) ? { json: plain as SuperJSONValue } : superjson.serialize(plain as SuperJSONValue)
  } catch (e) {
    // A body nested thousands deep exhausts superjson's recursion: say so, with the limit.
    if (bodyNestsDeeper(envelope.body, limits.maxDepth)) throw invalid(envelope, `the body nests deeper than ${limits.maxDepth} levels`, e)
    throw invalid(envelope, `superjson cannot encode its body (${errorText(e)})`, e)
  }
  const docReason = checkSuperjsonDocument(doc.json as Record<string, unknown>, doc.meta, limits)
  if (docReason) throw invalid(envelope, docReason)
  const data = Buffer.from(JSON.stringify(doc), 'utf8')
  if (data.byteLength > limits.maxRecordBytes) {
    const { actor, messageId } = names(envelope)
    throw new RecordTooLargeError(actor, messageId, data.byteLength, limits.maxRecordBytes, undefined)
  }
  return data
}

function invalid(envelope: unknown, reason: string, cause?: unknown): InvalidEnvelopeError {
  const { actor, messageId } = names(envelope)
  return new InvalidEnvelopeError(actor, messageId, reason, cause === undefined ? undefined : { cause })
}

/**
 * Whether the fields of `plain` around its body are what superjson writes with no meta: plain
 * scalars, alone or in the list or object a field is made of here (fork, origin, trace). Anything
 * else, however it got there, goes to superjson.
 */
function plainFields(plain: Record<string, unknown>): boolean {
  for (const k in plain) {
    if (k === 'body') continue
    const v = plain[k]
    if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) {
      for (let i = 0; i < v.length; i++) if (!plainScalar(v[i])) return false
    } else if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      for (const f in v) if (!plainScalar((v as Record<string, unknown>)[f])) return false
    } else if (!plainScalar(v)) return false
  }
  return true
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
