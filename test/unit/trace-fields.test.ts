// The envelope's trace context on the wire (envelope-fields.ts, the record codec): a W3C
// traceparent, or [traceparent, tracestate]; a malformed one is refused with the reason, never a
// throw; and the context a span carries (turn-trace.ts).
import { createTraceState, TraceFlags } from '@opentelemetry/api'
import t from 'tap'
import { makeEnvelope, type Envelope, type TraceContext } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { decodeRecord, encodeRecord, RecordCodec } from '../../lib/routing/record-codec.js'
import { InvalidEnvelopeError } from '../../lib/routing/record-errors.js'
import { carried } from '../../lib/turn/turn-trace.js'

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const json = { id: 'm', type: 't', key: '', correlationId: 'c', attempt: 0, sentAt: 1 }
const record = (trace: unknown) => Buffer.from(JSON.stringify({ json: { ...json, trace } }))

function traced(trace: TraceContext): Envelope {
  const e = makeEnvelope({ id: 'm' as MessageId, type: 't', key: '', body: 1, correlationId: 'c' as CorrelationId, sentAt: 1 })
  e.trace = trace
  return e
}

t.test('the wire form: the traceparent alone, or with its tracestate as a list; both round-trip', async (t) => {
  const bare = encodeRecord(traced({ parent: PARENT }))
  t.equal(JSON.parse(bare.toString()).json.trace, PARENT)
  t.match(decodeRecord(bare), { ok: true, envelope: { trace: { parent: PARENT } } })
  const withState = encodeRecord(traced({ parent: PARENT, state: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }))
  t.same(JSON.parse(withState.toString()).json.trace, [PARENT, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'])
  const r = decodeRecord(withState)
  t.ok(r.ok)
  if (r.ok) t.strictSame(r.envelope.trace, { parent: PARENT, state: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' })
  const none = decodeRecord(Buffer.from(JSON.stringify({ json })))
  t.ok(none.ok && none.envelope.trace === undefined, 'no trace: none on the envelope')
  t.ok(new RecordCodec({ unknownFields: 'reject' }).decode(bare).ok, 'a known field to a strict codec')
})

t.test('a malformed trace in a record is refused with the reason', async (t) => {
  const traceparent = /the trace's traceparent must be W3C trace context \(00-<32 hex digits>-<16 hex digits>-<2 hex digits>, ids not all zero\)/
  const cases: [string, unknown, RegExp][] = [
    ['a number', 7, /the field "trace" must be a traceparent, or the list \[traceparent, tracestate\], when set, got the number 7/],
    ['an object', { parent: PARENT }, /the field "trace" must be a traceparent, or the list .*got an object/],
    ['a list of one', [PARENT], /the field "trace" must be a traceparent, or the list/],
    ['no dashes', PARENT.replaceAll('-', ''), traceparent],
    ['upper case', PARENT.toUpperCase(), traceparent],
    ['a short span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902-01', traceparent],
    ['version ff', PARENT.replace(/^00/, 'ff'), traceparent],
    ['a zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, traceparent],
    ['a zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, traceparent],
    ['trailing text', `${PARENT}-extra`, traceparent],
    ['a list with a bad traceparent', ['x', 'a=b'], traceparent],
    ['a tracestate not text', [PARENT, 5], /the trace's tracestate must be 1 to 512 printable ASCII characters when set, got the number 5/],
    ['an empty tracestate', [PARENT, ''], /tracestate must be 1 to 512/],
    ['a tracestate too long', [PARENT, `a=${'b'.repeat(511)}`], /tracestate must be 1 to 512 printable ASCII characters when set, got a string of 513 characters/],
    ['a tracestate with a newline', [PARENT, 'a=b\nc=d'], /tracestate must be 1 to 512 printable ASCII/],
  ]
  for (const [name, trace, reason] of cases) {
    let r: ReturnType<typeof decodeRecord> | undefined
    t.doesNotThrow(() => (r = decodeRecord(record(trace))), `${name}: no throw`)
    t.match(r, { ok: false, reason, messageId: 'm', actor: 't' }, name)
  }
})

t.test('encoding refuses a trace that decoding would refuse', async (t) => {
  t.throws(() => encodeRecord(traced({ parent: 'nope' })), InvalidEnvelopeError)
  t.throws(() => encodeRecord(traced({ parent: PARENT, state: 'x'.repeat(600) })), /tracestate must be 1 to 512/)
  t.throws(() => encodeRecord(traced('00-…' as unknown as TraceContext)), /the field "trace" must be \{ parent, state\? \} when set, got a string/)
})

t.test("a span's context as it travels: sampled or not, its tracestate when it fits", async (t) => {
  const span = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED }
  t.strictSame(carried(span), { parent: PARENT })
  t.strictSame(carried({ ...span, traceFlags: TraceFlags.NONE }), { parent: PARENT.replace(/01$/, '00') })
  t.strictSame(carried({ ...span, traceState: createTraceState('rojo=00f067aa0ba902b7') }), { parent: PARENT, state: 'rojo=00f067aa0ba902b7' })
  const long = createTraceState(Array.from({ length: 30 }, (_, i) => `k${i}=${'v'.repeat(30)}`).join(','))
  t.strictSame(carried({ ...span, traceState: long }), { parent: PARENT }, 'a tracestate past 512 characters stays behind')
  t.strictSame(carried({ ...span, traceId: span.traceId.toUpperCase(), spanId: span.spanId.toUpperCase() }), { parent: PARENT }, 'hex in lower case, as W3C writes it')
  t.equal(carried({ ...span, traceId: '0'.repeat(32) }), undefined, 'an invalid span context carries nothing')
})
