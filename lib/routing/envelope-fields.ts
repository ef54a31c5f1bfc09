// The fields an envelope carries in a record, and what each must hold: ids ≤ 256 characters,
// `attempt` a whole number, `sentAt` (and `deadline`, `diedAt`) a time a Date can hold, `fork`
// `{ forkId, index }`, `origin` a lane, two positions and an index — on the wire the list
// `[lane, pos, i, fence]`, `trace` a W3C traceparent and tracestate — on the wire the
// traceparent, or `[traceparent, tracestate]`; the fields every message carries. Unknown fields: ignored and dropped by default, so a newer sender may add a
// field while older hosts still run (rolling deploys); `unknownFields: 'reject'` refuses them instead.
import { isEpochMs, MAX_EPOCH_MS } from '../core/clock.js'
import { comparePosition, POSITION } from '../core/position.js'
import { MAX_ID_LENGTH, type Limits } from './record-limits.js'
import { describe } from './record-reasons.js'
import { isPlainObject } from './superjson-guard.js'
import { isWellFormed, quoted } from '../core/validate.js'

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
  'trace',
  'diedAt',
])
const FORK_FIELDS = new Set(['forkId', 'index'])

/**
 * Why the fields of `e` do not make an envelope, or undefined. `decoding` is true for what came off
 * a stream (unknown fields count there); an envelope being encoded may carry extra properties.
 */
export function checkFields(e: Record<string, unknown>, limits: Limits, decoding: boolean): string | undefined {
  return (
    text(e, 'id', 1, MAX_ID_LENGTH, true) ??
    text(e, 'type', 1, MAX_ID_LENGTH, true) ??
    text(e, 'key', 0, limits.maxKeyLength, true) ??
    text(e, 'correlationId', 1, MAX_ID_LENGTH, true) ??
    text(e, 'parentId', 1, MAX_ID_LENGTH, false) ??
    text(e, 'causationId', 1, MAX_ID_LENGTH, false) ??
    text(e, 'replyTo', 1, MAX_ID_LENGTH, false) ??
    (Number.isSafeInteger(e.attempt) && (e.attempt as number) >= 0 ? undefined : `the field "attempt" must be a whole number from 0 up, got ${describe(e.attempt)}`) ??
    (isEpochMs(e.sentAt) ? undefined : `the field "sentAt" must be a time (epoch ms, at most ${MAX_EPOCH_MS} either way), got ${describe(e.sentAt)}`) ??
    (!has(e, 'deadline') || isEpochMs(e.deadline) ? undefined : `the field "deadline" must be a time (epoch ms, at most ${MAX_EPOCH_MS} either way) when set, got ${describe(e.deadline)}`) ??
    (has(e, 'fork') ? checkFork(e.fork, limits, decoding) : undefined) ??
    (!has(e, 'receipt') || e.receipt === 'status' || e.receipt === 'reply' ? undefined : `the field "receipt" must be "status" or "reply" when set, got ${describe(e.receipt)}`) ??
    (has(e, 'origin') ? checkOrigin(e.origin, decoding) : undefined) ??
    (!has(e, 'control') || e.control === 'flush' ? undefined : `the field "control" must be "flush" when set, got ${describe(e.control)}`) ??
    (has(e, 'trace') ? checkTrace(e.trace, decoding) : undefined) ??
    (!has(e, 'diedAt') || isEpochMs(e.diedAt) ? undefined : `the field "diedAt" must be a time (epoch ms, at most ${MAX_EPOCH_MS} either way) when set, got ${describe(e.diedAt)}`) ??
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

const LANE = new RegExp(`^[A-Za-z0-9_.:/-]{1,${MAX_ID_LENGTH}}$`)

/** An origin: `{ lane, pos, i, fence }` on an envelope, the list `[lane, pos, i, fence]` in a record. */
function checkOrigin(origin: unknown, decoding: boolean): string | undefined {
  const shape = decoding ? 'the list [lane, pos, i, fence]' : '{ lane, pos, i, fence }'
  let lane: unknown, pos: unknown, i: unknown, fence: unknown
  if (decoding) {
    if (!Array.isArray(origin) || origin.length !== 4) return `the field "origin" must be ${shape} when set, got ${describe(origin)}`
    ;[lane, pos, i, fence] = origin as unknown[]
  } else {
    if (!isPlainObject(origin)) return `the field "origin" must be ${shape} when set, got ${describe(origin)}`
    ;({ lane, pos, i, fence } = origin)
  }
  // A lane is a shard's (`s:<stream>/<shardId>`) or a process's (`p:<id>`): plain ASCII, which a
  // receiver's memory of lanes keeps byte for byte (lane-memory.ts counts it so).
  if (typeof lane !== 'string' || !LANE.test(lane)) return `the origin's lane must be 1 to ${MAX_ID_LENGTH} letters, digits or "_", ".", ":", "/", "-", got ${describe(lane)}`
  if (typeof pos !== 'string' || !POSITION.test(pos)) return `the origin's position must be a decimal number (with ":member" for a message of an aggregate record), got ${describe(pos)}`
  if (!Number.isSafeInteger(i) || (i as number) < 0) return `the origin's index must be a whole number from 0 up, got ${describe(i)}`
  if (typeof fence !== 'string' || !POSITION.test(fence)) return `the origin's fence must be a decimal number (with ":member" for a message of an aggregate record), got ${describe(fence)}`
  // A lane's fence is never past the message it rides on; one that is would make receivers forget copies to come.
  if (comparePosition(fence, pos) > 0) return `the origin's fence ${fence} is after its position ${pos}`
  return undefined
}

/** `00-<trace id>-<span id>-<flags>`, lower-case hex; version ff and all-zero ids are invalid (W3C). */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/
/** A tracestate as W3C bounds what must be passed on: at most 512 printable ASCII characters. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/

/** Trace context: `{ parent, state? }` on an envelope, the traceparent or `[traceparent, tracestate]` in a record. */
function checkTrace(trace: unknown, decoding: boolean): string | undefined {
  let parent: unknown
  let state: unknown
  if (decoding) {
    if (Array.isArray(trace) && trace.length === 2) [parent, state] = trace
    else if (typeof trace === 'string') parent = trace
    else return `the field "trace" must be a traceparent, or the list [traceparent, tracestate], when set, got ${describe(trace)}`
  } else {
    if (!isPlainObject(trace)) return `the field "trace" must be { parent, state? } when set, got ${describe(trace)}`
    ;({ parent, state } = trace)
  }
  if (typeof parent !== 'string' || !TRACEPARENT.test(parent)) {
    return `the trace's traceparent must be W3C trace context (00-<32 hex digits>-<16 hex digits>-<2 hex digits>, ids not all zero), got ${describe(parent)}`
  }
  if (state !== undefined && (typeof state !== 'string' || !TRACESTATE.test(state))) {
    return `the trace's tracestate must be 1 to 512 printable ASCII characters when set, got ${describe(state)}`
  }
  return undefined
}

function has(e: Record<string, unknown>, k: string): boolean {
  return Object.hasOwn(e, k) && e[k] !== undefined
}

function text(o: Record<string, unknown>, field: string, min: number, max: number, required: boolean, label = field): string | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined
  if (v === undefined && !required) return undefined
  if (typeof v === 'string' && v.length >= min && v.length <= max) {
    // Ids, types and keys are parts of DynamoDB keys (UTF-8): a lone surrogate would become U+FFFD there.
    return isWellFormed(v) ? undefined : `the field "${label}" must be well-formed UTF-16 (no lone surrogate), got ${quoted(v)}`
  }
  return `the field "${label}" must be a string of ${min} to ${max} characters${required ? '' : ' when set'}, got ${describe(v)}`
}

function unknown(keys: string[], known: ReadonlySet<string>, where: string): string | undefined {
  const extra = keys.filter((k) => !known.has(k))
  if (extra.length === 0) return undefined
  return `${where} has unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`
}
