import { ConfigError } from '../core/errors.js'
import { derivedId } from '../core/ids.js'
import type { ActorClass } from '../core/actor.js'
import { assertSerializable } from '../core/validate.js'
import { JOINER } from '../../actors/joiner.js'
import { scopedTimerId, type Effect, type ForkPlan } from './effect.js'

export interface ForkPlanDeps {
  /** The type of a registered actor class; throws for one the system does not have. */
  typeOf(actor: ActorClass): string
  checkSerializable: boolean
  now: number
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
  const { forkId, cause } = plan
  const children = plan.children.map(([actor], i) => ({ actor: deps.typeOf(actor), messageId: plan.childId(i) as string }))
  const open = { total: children.length, join, value, children, ...(plan.forward ? { forward: plan.forward } : {}) }
  return [
    { kind: 'tell', target: JOINER, id: derivedId(forkId, 'open'), body: { op: 'open', forkId, fork: open }, replyTo: undefined, receipt: false },
    {
      kind: 'schedule',
      timer: {
        id: scopedTimerId(JOINER, forkId, 'deadline'),
        target: JOINER,
        body: deadlineBody(forkId),
        dueAt: deps.now + timeoutMs,
        correlationId: cause.correlationId,
        causationId: cause.id,
        fired: 0,
      },
    },
    ...plan.children.map(
      ([actor, body], index): Effect => ({ kind: 'tell', target: actor, id: plan.childId(index), body, replyTo: undefined, receipt: false, fork: { forkId, index } }),
    ),
  ]
}

/**
 * `encode({ op: 'deadline', forkId })`, written out: for an object of two strings superjson's
 * text is its JSON under `json`, and its walk cost more than the rest of planning a fork.
 */
export function deadlineBody(forkId: string): string {
  return `{"json":{"op":"deadline","forkId":${JSON.stringify(forkId)}}}`
}
