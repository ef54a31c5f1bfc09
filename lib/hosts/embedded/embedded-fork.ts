// Forks in one process (embedded-system.ts is the facade): planning a fork's effects, from a turn
// or from outside one, and a fork made from outside a turn (`system.fork`): its children go out as
// any turn's sends do, their joiner tells the fork-result actor, and that actor's turn hands the
// joined replies to the caller waiting here.
import { FORK_RESULT, type DeliverFork } from '../../../actors/fork-result.js'
import type { ActorClass } from '../../core/actor.js'
import type { ForkChildren, Joined, JoinOptions } from '../../core/fork.js'
import type { MessageId } from '../../core/ids.js'
import { mapWithout } from '../../core/map-without.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { outsideFork, planFork, type ForkPlanDeps, type OutsideForkHost } from '../../turn/fork-plan.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { outsideTrace } from '../../turn/turn-trace.js'
import type { ActorRuntime } from './actor-runtime.js'

/** Where a fork's effects go: the turn endings' `send`, with the time they are sent. */
export interface EffectSender {
  send(effects: Effect[], cause: ForkPlan['cause'], sentAt: number): void
}

/**
 * One deps object for every fork, its clock reading set per fork: planFork keeps none of it. A
 * class with a method, made with a reading, for the reasons in embedded-outcomes.ts: a literal
 * with a closure, made once per system, would send V8's optimized planFork back to cold in the
 * next system, and so would a reading field that began as a small integer.
 */
class ForkDeps implements ForkPlanDeps {
  constructor(
    private readonly registry: ActorRegistry<ActorRuntime>,
    readonly checkSerializable: boolean,
    public now: number,
  ) {}

  typeOf(actor: ActorClass): string {
    return this.registry.get(actor).type
  }
}

export class EmbeddedForks implements DeliverFork, OutsideForkHost {
  /** Callers of system.fork waiting for their join. */
  private waiting = new Map<string, (joined: unknown) => void>()
  private readonly deps: ForkDeps

  constructor(
    private readonly host: Pick<OutsideForkHost, 'checkOutgoing'>,
    private readonly registry: ActorRegistry<ActorRuntime>,
    checkSerializable: boolean,
    private readonly sender: EffectSender,
    now: number,
  ) {
    this.deps = new ForkDeps(registry, checkSerializable, now)
  }

  /** A fork's effects, from a turn or from outside one (TurnHost.planFork). */
  plan(plan: ForkPlan, now: number): Effect[] {
    this.deps.now = now
    return this.planFork(plan)
  }

  /**
   * Sends the children of fork `forkId`, made at `now`, and resolves to what its join got. Throws
   * what planning the fork throws. The fork is planned here (this is its OutsideForkHost) so that
   * its deadline and its messages take the one reading of the clock.
   */
  fork<const T extends readonly ActorClass[], Value>(forkId: MessageId, children: ForkChildren<T>, options: JoinOptions<Value>, now: number): Promise<Joined<T, Value>> {
    const join = this.registry.find(FORK_RESULT)!.cls
    this.deps.now = now
    const { effects, cause } = outsideFork(this, forkId, children, join, options as JoinOptions<unknown>, outsideTrace())
    const joined = new Promise<Joined<T, Value>>((resolve) => this.waiting.set(forkId, resolve as (j: unknown) => void))
    this.sender.send(effects, cause, now)
    return joined
  }

  /** A body told outside a turn, checked as the system checks one (OutsideForkHost). */
  checkOutgoing(target: ActorClass, body: unknown): unknown {
    return this.host.checkOutgoing(target, body)
  }

  /** The effects of a fork from outside a turn, at the reading `fork` set (OutsideForkHost). */
  planFork(plan: ForkPlan): Effect[] {
    return planFork(plan, this.deps)
  }

  /** The fork-result actor's turn: the fork joined. */
  deliverFork(forkId: string, joined: unknown): void {
    const resolve = this.waiting.get(forkId)
    this.waiting = mapWithout(this.waiting, forkId)
    resolve?.(joined)
  }
}
