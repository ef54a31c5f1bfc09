// What the durable host does for troupe's own actors (durable-host.ts is the map, and answers
// for them as their JoinerHost and TimerHost): a fork's plan, sized for items of at most 400 KB;
// the joiner's look-ups of children's receipts and its large replies kept in the overflow store;
// the timer's firings told as entries of its turn's outbox.
import type { Context } from '../../core/context.js'
import { TroupeError } from '../../core/errors.js'
import type { MessageStatus } from '../../core/receipt.js'
import { decode, encode } from '../../core/serialization.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { planFork } from '../../turn/fork-plan.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { firedEnvelope } from '../../turn/turn-effects.js'
import type { TimerFiring, TimerState } from '../../../actors/timer.js'
import type { DurableContext } from './durable-context.js'
import type { TurnOutcomes } from './turn-outcomes.js'

/** A reply larger than this is kept out of its joiner's item, which holds many replies. */
const LARGE_REPLY_BYTES = 16 * 1024
/** Children per joiner: a fork with more is joined by a tree of joiners (fork-plan.ts), each item far below 400 KB for small replies. */
const JOIN_GROUP_SIZE = 256

export class BuiltinDuties {
  constructor(
    private readonly ctx: DurableContext,
    private readonly registry: ActorRegistry<ActorType>,
    private readonly outcomes: TurnOutcomes,
  ) {}

  planFork(plan: ForkPlan): Effect[] {
    return planFork(plan, {
      typeOf: (actor) => this.registry.get(actor).type,
      checkSerializable: this.ctx.checkSerializable,
      now: this.ctx.clock.now(),
      // A tree of joiners needs the overflow store for its groups' replies.
      ...(this.ctx.options.overflow ? { groupSize: JOIN_GROUP_SIZE } : {}),
    })
  }

  async lastStatus(messageId: string): Promise<MessageStatus | undefined> {
    const receipt = await this.ctx.options.journal.receipt(messageId, this.ctx.clock.now())
    return receipt?.status
  }

  tellFired(ctx: Context<TimerState>, firing: TimerFiring): void {
    const envelope = firedEnvelope(firing, this.registry.get(firing.target))
    if (this.ctx.options.receiptsForAll) envelope.receipt = 'status'
    this.outcomes.addEntry(ctx, { kind: 'message', envelope })
  }

  async keep(key: string, value: unknown): Promise<void> {
    await this.ctx.options.overflow!.put(key, Buffer.from(encode(value), 'utf8'), this.ctx.clock.now() + this.ctx.tombstoneTtlMs)
  }

  async read(key: string): Promise<unknown> {
    const data = await this.ctx.options.overflow!.get(key)
    if (data === undefined) throw new TroupeError('TROUPE_OVERFLOW_MISSING', `the fork's replies kept under ${key} are not in the overflow store`)
    return decode(Buffer.from(data).toString('utf8'))
  }

  /** With an overflow store, a reply over this many bytes (as superjson text) is kept out of the joiner's item. */
  large(reply: unknown): boolean {
    if (this.ctx.options.overflow === undefined || reply === null || (typeof reply !== 'object' && typeof reply !== 'string')) return false
    if (typeof reply === 'string') return reply.length > LARGE_REPLY_BYTES / 4 && Buffer.byteLength(reply) > LARGE_REPLY_BYTES
    return Buffer.byteLength(encode(reply)) > LARGE_REPLY_BYTES
  }
}
