import { ConfigError } from '../core/errors.js'
import { derivedId, type CorrelationId, type MessageId } from '../core/ids.js'
import type { ForkMembership, JoinOptions } from '../core/fork.js'
import type { ActorClass } from '../core/actor.js'
import type { TraceContext } from '../core/envelope.js'
import type { TimerRecord } from '../store/index.js'
import { assertSerializable } from '../core/validate.js'
import { JOINER, type OpenFork } from './join-protocol.js'
import { scopedTimerId, type Effect, type ForkPlan } from './effect.js'

export interface ForkPlanDeps {
  /** The type of a registered actor class; throws for one the system does not have. */
  typeOf(actor: ActorClass): string
  checkSerializable: boolean
  now: number
  /**
   * Children per joiner. A larger fork is joined by a tree: a joiner per group of this many
   * children keeps their replies (one store item each) and hands them on to the fork's own
   * joiner, which joins them in fork order. Unset: one joiner for any number (in memory).
   */
  groupSize?: number
}

/** How long a grouped fork's own joiner waits past the deadline for its groups' partial results. */
export const GROUP_GRACE_MS = 60_000

/** The id of group `g` of a grouped fork: the key of its joiner. */
export function groupForkId(forkId: string, g: number): string {
  return derivedId(forkId as never, `g${g}`)
}

/**
 * What a fork and its join leave for the host to carry out, in this order: the joiner's
 * open record, the deadline timer, then the children (whose envelopes carry their place in
 * the fork, so the host can tell the joiner how each ended). Host-neutral: the effects
 * go out with the turn's other effects, under the same output gate.
 */
export function planFork(plan: ForkPlan, deps: ForkPlanDeps): Effect[] {
  const join = deps.typeOf(plan.join)
  const { timeoutMs, value } = plan.options
  const call = plan.call ?? `fork(…).join(${join})`
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
    throw new ConfigError(`${call}: timeoutMs must be a number from 0 up, got ${String(timeoutMs)}`)
  }
  const count = plan.children.length
  if (count === 0) throw new ConfigError(`${call}: a fork needs at least one child`)
  if (deps.checkSerializable) assertSerializable(join, 'message', value)
  const { forkId, cause, trace } = plan
  // Each child's id is made once: its place in the open record and its message share it.
  const children: OpenFork['children'] = new Array(count)
  for (let i = 0; i < count; i++) children[i] = { actor: deps.typeOf(plan.children[i]![0]), messageId: plan.childId(i) }
  const size = deps.groupSize ?? Infinity
  if (count <= size) {
    const open: OpenFork = { total: count, join, value, children }
    if (plan.forward !== undefined) open.forward = plan.forward
    // Made at its size: pushing ten children onto a list of two cost a list and a half more.
    const effects: Effect[] = new Array(2 + count)
    effects[0] = openEffect(forkId, open, trace)
    effects[1] = deadlineEffect(forkId, deps.now + timeoutMs, cause, trace)
    for (let index = 0; index < count; index++) {
      effects[2 + index] = childEffect(plan, index, children[index]!.messageId, { forkId, index })
    }
    return effects
  }
  // A tree: a joiner per group, each reporting its group's replies to the fork's own joiner.
  const groups = Math.ceil(count / size)
  const own: OpenFork = { total: groups, join, value, children: Array.from({ length: groups }, (_, g) => ({ actor: JOINER, messageId: groupForkId(forkId, g) })), groups: { size, children: count } }
  if (plan.forward !== undefined) own.forward = plan.forward
  const effects: Effect[] = [openEffect(forkId, own, trace), deadlineEffect(forkId, deps.now + timeoutMs + GROUP_GRACE_MS, cause, trace)]
  for (let g = 0; g < groups; g++) {
    const id = groupForkId(forkId, g)
    effects.push(openEffect(id, { total: Math.min(size, count - g * size), join: JOINER, value: undefined, children: children.slice(g * size, (g + 1) * size), report: { forkId, index: g } }, trace))
    effects.push(deadlineEffect(id, deps.now + timeoutMs, cause, trace))
  }
  for (let index = 0; index < count; index++) {
    effects.push(childEffect(plan, index, children[index]!.messageId, { forkId: groupForkId(forkId, Math.floor(index / size)), index: index % size }))
  }
  return effects
}

/** The joiner's open record, told to the joiner keyed by `forkId`. */
function openEffect(forkId: string, fork: OpenFork, trace: TraceContext | undefined): Effect {
  return { kind: 'tell', target: JOINER, id: derivedId(forkId as MessageId, 'open'), body: { op: 'open', forkId, fork }, replyTo: undefined, receipt: false, trace }
}

/** The deadline timer of the joiner keyed by `forkId`. The joiner takes a deadline after its join as a no-op: it may come straight to it. */
function deadlineEffect(forkId: string, dueAt: number, cause: ForkPlan['cause'], trace: TraceContext | undefined): Effect {
  const timer: TimerRecord = { id: scopedTimerId(JOINER, forkId, 'deadline'), target: JOINER, body: deadlineBody(forkId), dueAt, correlationId: cause.correlationId, causationId: cause.id, fired: 0, direct: true }
  if (trace !== undefined) timer.trace = trace
  return { kind: 'schedule', timer }
}

/** Child `index`'s message, with its place in the fork (or in its group). */
function childEffect(plan: ForkPlan, index: number, id: string, fork: ForkMembership): Effect {
  const [actor, body] = plan.children[index]!
  return { kind: 'tell', target: actor, id: id as MessageId, body, replyTo: undefined, receipt: false, fork, trace: plan.trace }
}

/**
 * `encode({ op: 'deadline', forkId })`, written out: for an object of two strings superjson's
 * text is its JSON under `json`, and its walk cost more than the rest of planning a fork.
 */
export function deadlineBody(forkId: string): string {
  return `{"json":{"op":"deadline","forkId":${JSON.stringify(forkId)}}}`
}

/** What a host gives a fork made outside any turn. */
export interface OutsideForkHost {
  checkOutgoing(target: ActorClass, body: unknown): unknown
  planFork(plan: ForkPlan): Effect[]
}

/**
 * The plan of a fork made outside any turn (`system.fork` in an API handler): the fork's own id
 * is its cause, and `join` (the fork-result actor) joins it, so the caller waits for that
 * message's end. Bodies are checked before anything is planned. `trace`: the caller's span.
 */
export function outsideFork(
  host: OutsideForkHost,
  forkId: MessageId,
  children: readonly (readonly [ActorClass, unknown])[],
  join: ActorClass,
  options: JoinOptions<unknown>,
  trace: TraceContext | undefined,
): { effects: Effect[]; cause: ForkPlan['cause'] } {
  const checked = checkedChildren(children, (actor, body) => host.checkOutgoing(actor, body))
  const cause = { id: forkId, correlationId: forkId as string as CorrelationId }
  // The join is troupe's own fork-result actor: errors name the caller's call, not it.
  const effects = host.planFork({ forkId, childId: (i) => derivedId(forkId, i), children: checked, join, options, cause, forward: undefined, trace, call: 'system.fork(…)' })
  return { effects, cause }
}

/**
 * The children with their bodies as `check` returns them (validated, or released from a turn's
 * state). The list itself when no body changed, as none does without a schema that rewrites or a
 * state to release from: a fork then copies no pair.
 */
export function checkedChildren(children: readonly (readonly [ActorClass, unknown])[], check: (actor: ActorClass, body: unknown) => unknown): readonly (readonly [ActorClass, unknown])[] {
  let checked: (readonly [ActorClass, unknown])[] | undefined
  for (let i = 0; i < children.length; i++) {
    const [actor, body] = children[i]!
    const out = check(actor, body)
    if (checked === undefined && out !== body) checked = children.slice(0, i)
    if (checked !== undefined) checked.push([actor, out])
  }
  return checked ?? children
}
