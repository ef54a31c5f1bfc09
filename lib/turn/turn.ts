// The rules of a turn, for every host: one attempt of one message, from the state it starts on
// to an outcome the host carries out. The embedded system and the durable host are schedulers
// around `runTurn`: they choose when a message runs and what keeping its outcome means (a
// mailbox and memory; a batch, a conditional write and an outbox), never what a turn does.
import type { Clock } from '../core/clock.js'
import type { Envelope, TraceContext } from '../core/envelope.js'
import { ConfigError, NotSerializableError, OnceResultLostError, RetryableError, StateVersionError, TerminalError, TroupeError, TurnTimeoutError, ValidationError } from '../core/errors.js'
import { isDrop, type Filter } from '../core/filter.js'
import { openJournal, type TurnJournal } from '../core/turn-journal.js'
import { assertSerializable, validateBody } from '../core/validate.js'
import { errorRecord, type AttemptRecord } from '../core/dead-letter.js'
import { retryDelayMs } from '../supervisor/policy.js'
import type { ActorType } from './actor-type.js'
import type { Deadlines } from './deadlines.js'
import { assertMigratedSerializable, currentState, OtherVersionState } from './state-version.js'
import type { TurnContext } from './turn-context.js'
import { tracedTurn } from './turn-trace.js'

/**
 * What a host fixes once for all its turns. A class, made with `new TurnRules({ … })`: a host
 * makes its rules once, and a literal made once per host would have its fields generalized by V8
 * the second time it is made, dropping the optimized code of every turn in the second system a
 * process starts.
 */
export class TurnRules {
  readonly filters: readonly Filter[]
  /** Check that state, replies and messages survive superjson (the AWS mode's encoding). */
  readonly checkSerializable: boolean
  /** For the retry backoff's jitter. */
  readonly random: () => number
  readonly clock: Clock
  /** Where attempt timeouts wait: one clock timer for all of them. */
  readonly deadlines: Deadlines

  constructor(rules: TurnRules) {
    this.filters = rules.filters
    this.checkSerializable = rules.checkSerializable
    this.random = rules.random
    this.clock = rules.clock
    this.deadlines = rules.deadlines
  }
}

/**
 * How an attempt ended. `done`: the turn's context holds the state to keep (`ctx.state`) and
 * what it sends (`ctx.outbox`). `failed`: `retryInMs` is when to try again, undefined when
 * the message is done trying (a dead letter).
 */
export type Outcome =
  | { readonly end: 'done'; readonly reply: unknown }
  | { readonly end: 'filtered'; readonly reason: string }
  | { readonly end: 'failed'; readonly error: unknown; readonly attempt: AttemptRecord; readonly retryInMs: number | undefined }

const APART = { apart: true }
const TRUSTED = { trusted: true }
const UNTRUSTED = { trusted: false }

/** The state a turn of `type` starts from: none for a stateless actor; an instance with none yet (new, or deleted by its last turn) starts from the initial state. */
export function startState(type: ActorType, current: unknown): unknown {
  return type.kind === 'stateless' ? undefined : current === undefined ? type.initialState() : current
}

/**
 * The turn's hold on `state`, which a failed turn rolls back (turn-journal.ts). `apart`: the
 * host may still refuse a successful turn (the durable host's size check), so the state it began
 * from must stay as it was. `trusted`: the state was kept by a checked turn or read from a store,
 * so only what the turn writes needs checking; `new`: the state is the initial state.
 */
export function turnJournal(type: ActorType, state: unknown, mode: 'apart' | 'trusted' | 'new'): TurnJournal | undefined {
  if (type.kind === 'stateless') return undefined
  if (mode === 'apart') return openJournal(state, APART)
  // A turn whose actor writes its state only after its last throw runs on the state itself.
  if (!type.copiesState) return undefined
  return openJournal(state, mode === 'trusted' ? TRUSTED : UNTRUSTED)
}

/**
 * Runs one attempt: filters, `receive`, the serialisability of what the turn leaves, bounded by
 * the type's attempt timeout. Synchronous when `receive` is, so a host's fast path stays fast.
 * The context is closed when this settles; a failed or filtered turn's state is rolled back.
 * A message that carries trace context runs as a span (turn-trace.ts); a bare body never does.
 */
export function runTurn(rules: TurnRules, type: ActorType, ctx: TurnContext): Outcome | Promise<Outcome> {
  const envelope = ctx.materialized()
  if (envelope === undefined) return attempt(rules, type, ctx)
  // Its sender's span; for a message from outside that has none, the host's (a Lambda invocation's X-Ray trace).
  const sent = envelope.trace ?? (envelope.causationId === undefined ? ctx.outsideTrace : undefined)
  if (sent === undefined) return attempt(rules, type, ctx)
  return tracedAttempt(rules, type, ctx, envelope, sent)
}

/** The attempt as a span. Not closures in runTurn: their scope would be allocated for every turn, traced or not. */
function tracedAttempt(rules: TurnRules, type: ActorType, ctx: TurnContext, envelope: Envelope, sent: TraceContext): Outcome | Promise<Outcome> {
  return tracedTurn(envelope, sent, (carried) => (ctx.trace = carried), () => attempt(rules, type, ctx))
}

function attempt(rules: TurnRules, type: ActorType, ctx: TurnContext): Outcome | Promise<Outcome> {
  let result: unknown
  try {
    if (rules.filters.length !== 0 || type.hasFilter) {
      const reason = applyFilters(type, ctx.message, rules.filters, rules.checkSerializable)
      if (reason !== undefined) {
        ctx.closed = true
        ctx.rollback()
        return { end: 'filtered', reason }
      }
    }
    // A state stored by another version of the actor is brought to this one for the turn (or
    // refused): what that throws is this turn's failure, and a failed turn leaves it as stored.
    if (ctx.state instanceof OtherVersionState) {
      const stored = ctx.state
      ctx.state = currentState(type, ctx.key, stored)
      // Checked here, where the error can say that migrate made it (the turn's end would only say "state").
      if (rules.checkSerializable) assertMigratedSerializable(type, ctx.key, stored, ctx.state)
    }
    result = type.actor.receive(ctx.body, ctx)
  } catch (error) {
    return failed(rules, type, ctx, error)
  }
  if (result instanceof Promise || typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    return settle(rules, type, ctx, result as PromiseLike<unknown>)
  }
  return succeeded(rules, type, ctx, result)
}

/** An async turn, or its attempt timeout, whichever comes first; what comes later is ignored. */
function settle(rules: TurnRules, type: ActorType, ctx: TurnContext, result: PromiseLike<unknown>): Promise<Outcome> {
  const timeoutMs = type.policy.attemptTimeoutMs
  if (timeoutMs === 0) {
    return Promise.resolve(result).then(
      (reply) => succeeded(rules, type, ctx, reply),
      (error: unknown) => failed(rules, type, ctx, error),
    )
  }
  return new Promise<Outcome>((resolve) => {
    // The turn goes on past its deadline (nothing can stop it), but closed: what it tells then throws.
    const deadline = rules.deadlines.add(ctx.startedAt + timeoutMs, () => resolve(failed(rules, type, ctx, new TurnTimeoutError(ctx.message.type, ctx.message.id, timeoutMs))))
    result.then(
      (reply) => {
        if (ctx.closed) return
        deadline.cancel()
        resolve(succeeded(rules, type, ctx, reply))
      },
      (error: unknown) => {
        if (ctx.closed) return
        deadline.cancel()
        resolve(failed(rules, type, ctx, error))
      },
    )
  })
}

function succeeded(rules: TurnRules, type: ActorType, ctx: TurnContext, reply: unknown): Outcome {
  if (rules.checkSerializable) {
    try {
      if (type.kind !== 'stateless') ctx.assertStateSerializable(type.type)
      assertSerializable(type.type, 'reply', reply)
    } catch (error) {
      return failed(rules, type, ctx, error)
    }
  }
  const refused = ctx.refusal()
  if (refused !== undefined) return failed(rules, type, ctx, refused)
  ctx.closed = true
  const kept = ctx.keep(reply)
  // Most turns reply nothing: they share one outcome (hosts only read it).
  return kept === undefined ? DONE_WITHOUT_REPLY : { end: 'done', reply: kept }
}

const DONE_WITHOUT_REPLY: Outcome = Object.freeze({ end: 'done', reply: undefined })

function failed(rules: TurnRules, type: ActorType, ctx: TurnContext, error: unknown): Outcome {
  ctx.closed = true
  ctx.rollback()
  const envelope = ctx.message
  const attempt: AttemptRecord = { attempt: envelope.attempt, startedAt: ctx.startedAt, endedAt: rules.clock.now(), error: errorRecord(error) }
  return { end: 'failed', error, attempt, retryInMs: nextAttemptDelayMs(type, error, envelope.attempt, rules.random) }
}

/**
 * Global filters, then the actor's own. Returns the reason when the message is dropped;
 * otherwise leaves a rewritten body, validated like any message, in the envelope.
 */
export function applyFilters(type: ActorType, envelope: Envelope, filters: readonly Filter[], checkSerializable: boolean): string | undefined {
  let body = envelope.body
  for (const f of filters) {
    const out = f(body, envelope)
    if (isDrop(out)) return out.reason
    if (out !== undefined) body = out
  }
  if (type.hasFilter) {
    const out = type.actor.filter!(body, envelope)
    if (isDrop(out)) return out.reason
    if (out !== undefined) body = out
  }
  if (body !== envelope.body) {
    const checked = validateBody(type.type, type.schema, body)
    if (checked instanceof Promise) throw new TerminalError(`${type.type} has an async schema; a filter's rewrite must validate synchronously`)
    if (checkSerializable) assertSerializable(type.type, 'message', checked)
    envelope.body = checked
  }
  return undefined
}

/** Errors no retry can fix: the message is dead-lettered at once (a newer stored state: only in the embedded mode, where no other host may take it). */
export function isTerminal(error: unknown): boolean {
  return (
    error instanceof TerminalError ||
    error instanceof NotSerializableError ||
    error instanceof ValidationError ||
    error instanceof ConfigError ||
    error instanceof StateVersionError ||
    // A side effect that ran and whose result cannot be kept: a retry would only run it again.
    // A side effect that ran and whose result was not kept: every later run is told so.
    error instanceof OnceResultLostError ||
    // A side effect's record written by another turn: every run finds it.
    (error instanceof TroupeError && (error.code === 'TROUPE_ONCE_TOO_LARGE' || error.code === 'TROUPE_ONCE_OTHER_TURN' || error.code === 'TROUPE_STATE_VERSION_UNREADABLE'))
  )
}

/**
 * How long to wait before the next attempt after `attempt` failed with `error`, or
 * undefined when the message is done trying (terminal, or out of attempts).
 */
export function nextAttemptDelayMs(type: ActorType, error: unknown, attempt: number, random: () => number): number | undefined {
  if (isTerminal(error) || attempt >= type.policy.maxAttempts) return undefined
  if (error instanceof RetryableError && error.retryAfterMs !== undefined) return error.retryAfterMs
  return retryDelayMs(type.policy, attempt, random)
}
