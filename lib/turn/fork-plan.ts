import { ConfigError } from '../core/errors.js'
import { derivedId, type CorrelationId, type MessageId } from '../core/ids.js'
import type { JoinOptions } from '../core/fork.js'
import type { ActorClass } from '../core/actor.js'
import type { TraceContext } from '../core/envelope.js'
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
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
    throw new ConfigError(`fork(…).join(${join}): timeoutMs must be a number from 0 up, got ${String(timeoutMs)}`)
  }
  if (plan.children.length === 0) throw new ConfigError(`fork(…).join(${join}): a fork needs at least one child`)
  if (deps.checkSerializable) assertSerializable(join, 'message', value)
  const { forkId, cause, trace } = plan
  const children = plan.children.map(([actor], i) => ({ actor: deps.typeOf(actor), messageId: plan.childId(i) as string }))
  const size = deps.groupSize ?? Infinity
  const deadline = (id: string, dueAt: number): Effect => ({
    kind: 'schedule',
    // The joiner takes a deadline after its join as a no-op: it may come straight to it.
    timer: { id: scopedTimerId(JOINER, id, 'deadline'), target: JOINER, body: deadlineBody(id), dueAt, correlationId: cause.correlationId, causationId: cause.id, fired: 0, direct: true, ...(trace === undefined ? {} : { trace }) },
  })
  const open = (id: string, fork: OpenFork): Effect => ({ kind: 'tell', target: JOINER, id: derivedId(id as never, 'open'), body: { op: 'open', forkId: id, fork }, replyTo: undefined, receipt: false, trace })
  const forward = plan.forward ? { forward: plan.forward } : {}
  if (children.length <= size) {
    return [
      open(forkId, { total: children.length, join, value, children, ...forward }),
      deadline(forkId, deps.now + timeoutMs),
      ...plan.children.map(
        ([actor, body], index): Effect => ({ kind: 'tell', target: actor, id: plan.childId(index), body, replyTo: undefined, receipt: false, fork: { forkId, index }, trace }),
      ),
    ]
  }
  // A tree: a joiner per group, each reporting its group's replies to the fork's own joiner.
  const groups = Math.ceil(children.length / size)
  const effects: Effect[] = [
    open(forkId, { total: groups, join, value, children: Array.from({ length: groups }, (_, g) => ({ actor: JOINER, messageId: groupForkId(forkId, g) })), groups: { size, children: children.length }, ...forward }),
    deadline(forkId, deps.now + timeoutMs + GROUP_GRACE_MS),
  ]
  for (let g = 0; g < groups; g++) {
    const id = groupForkId(forkId, g)
    effects.push(open(id, { total: Math.min(size, children.length - g * size), join: JOINER, value: undefined, children: children.slice(g * size, (g + 1) * size), report: { forkId, index: g } }))
    effects.push(deadline(id, deps.now + timeoutMs))
  }
  plan.children.forEach(([actor, body], index) => {
    effects.push({ kind: 'tell', target: actor, id: plan.childId(index), body, replyTo: undefined, receipt: false, fork: { forkId: groupForkId(forkId, Math.floor(index / size)), index: index % size }, trace })
  })
  return effects
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
  const checked = children.map(([actor, body]) => [actor, host.checkOutgoing(actor, body)] as const)
  const cause = { id: forkId, correlationId: forkId as string as CorrelationId }
  const effects = host.planFork({ forkId, childId: (i) => derivedId(forkId, i), children: checked, join, options, cause, forward: undefined, trace })
  return { effects, cause }
}
