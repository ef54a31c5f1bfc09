// OpenTelemetry traces, through @opentelemetry/api: a no-op until the app registers an SDK. Each
// turn of a message that carries trace context is a CONSUMER span `troupe <actor type>`, the child
// of the span that sent the message; what the turn tells, forks and schedules carries the turn's
// span in its turn. A message sent from outside a turn carries the caller's active span.
//
// The send itself makes no PRODUCER span: the caller's span already stands for it, and a span per
// tell would double the spans of a traced request for no new timing (the embedded tell is a push,
// and the AWS SDK's own instrumentation times a PutRecords). Untraced messages cost one check and
// make no span: an embedded bare-body tell when no span is active, and its turn, touch nothing.
import { context, createTraceState, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api'
import type { Envelope, TraceContext } from '../core/envelope.js'

/** The trace context to carry for `span`: its traceparent, with its tracestate when W3C bounds let it travel. */
export function carried(span: SpanContext): TraceContext | undefined {
  if (!isSpanContextValid(span)) return undefined
  // Lower case, as W3C writes it (the api takes either).
  const parent = `00-${span.traceId.toLowerCase()}-${span.spanId.toLowerCase()}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`
  const state = span.traceState?.serialize()
  // Past 512 characters a tracestate may be dropped (W3C); envelope-fields.ts refuses longer ones.
  return state && state.length <= 512 ? { parent, state } : { parent }
}

/**
 * Where @opentelemetry/api 1.x keeps what an app registers (its internal/global-utils.ts; the key
 * names the API's major version, which package.json fixes). test/embedded/traces.test.ts fails
 * if this no longer finds the context manager an SDK registers.
 */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1')

/** For a message sent from outside a turn: the caller's active span, or undefined when none (no SDK, or no span). */
export function outsideTrace(): TraceContext | undefined {
  // With no context manager registered the active context is the root one, which holds no span:
  // said by one look, where the API's lookup took a tell about a twentieth of its time.
  if ((globalThis as { [OTEL_GLOBAL]?: { context?: unknown } })[OTEL_GLOBAL]?.context === undefined) return undefined
  const span = trace.getActiveSpan()
  return span === undefined ? undefined : carried(span.spanContext())
}

/**
 * `fn`, to run with no span active: a worker that runs turn after turn must not lend them the
 * span of whoever woke it. Returns `fn` itself while no context manager is registered.
 */
export function detached(fn: () => void): () => void {
  return context.bind(ROOT_CONTEXT, fn)
}

/** What a span needs of an attempt's outcome (turn.ts's Outcome, without importing it back). */
interface AttemptEnd {
  readonly end: 'done' | 'filtered' | 'failed'
  readonly error?: unknown
  readonly retryInMs?: number | undefined
}

/** The context whose span is the remote sender's. */
function senderContext(sent: TraceContext): Context {
  const [, traceId = '', spanId = '', flags = '00'] = sent.parent.split('-')
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) || 0,
    isRemote: true,
    ...(sent.state === undefined ? {} : { traceState: createTraceState(sent.state) }),
  })
}

/**
 * Runs one attempt of `envelope` as a span, the child of `sent`. `carry` gets the trace context
 * for what the turn sends before the attempt starts; the attempt runs with the span active, so
 * spans the actor makes nest under it. The span ends with the outcome.
 */
export function tracedTurn<Outcome extends AttemptEnd>(
  envelope: Envelope,
  sent: TraceContext,
  carry: (trace: TraceContext | undefined) => void,
  attempt: () => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  const parent = senderContext(sent)
  const attributes: Record<string, string | number> = {
    'messaging.system': 'troupe',
    'messaging.operation.type': 'process',
    'messaging.destination.name': envelope.type,
    'messaging.message.id': envelope.id,
    'messaging.message.conversation_id': envelope.correlationId,
    'troupe.attempt': envelope.attempt,
  }
  if (envelope.key !== '') attributes['troupe.key'] = envelope.key
  // The tracer is looked up per span, not kept: an SDK registered (or replaced) later is used at once.
  const span = trace.getTracer('troupe').startSpan(`troupe ${envelope.type}`, { kind: SpanKind.CONSUMER, attributes }, parent)
  // Without an SDK the span is the sender's own context: it is passed on unchanged.
  carry(carried(span.spanContext()))
  let outcome: Outcome | Promise<Outcome>
  try {
    outcome = context.with(trace.setSpan(parent, span), attempt)
  } catch (error) {
    span.end()
    throw error
  }
  if (outcome instanceof Promise) {
    return outcome.then(
      (o) => ended(span, o),
      (error: unknown) => {
        span.end()
        throw error
      },
    )
  }
  return ended(span, outcome)
}

/** Marks how the attempt ended (`done`, `filtered`, `retry` or `dead`; a failure with error status), and ends the span. */
function ended<Outcome extends AttemptEnd>(span: Span, outcome: Outcome): Outcome {
  if (outcome.end === 'failed') {
    const error = outcome.error
    span.setAttribute('troupe.outcome', outcome.retryInMs === undefined ? 'dead' : 'retry')
    span.recordException(error instanceof Error ? error : String(error))
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
  } else {
    span.setAttribute('troupe.outcome', outcome.end)
  }
  span.end()
  return outcome
}
