// Outgoing messages and replies from a machine: xstate `emit` actions with reserved event
// types, picked up by the machine actor's turn (actor.on) and turned into ctx.tell or the reply.
import {
  emit,
  type ActionArgs,
  type ActionFunction,
  type AnyActorRef,
  type AnyEventObject,
  type EventObject,
  type MachineContext,
  type ParameterizedObject,
} from 'xstate'
import type { ActorClass, Context, InOf } from '../index.js'

/** The emitted event type of {@link tellActor}. */
export const TELL_EVENT = '@troupe.xstate.tell'
/** The emitted event type of {@link replyWith}. */
export const REPLY_EVENT = '@troupe.xstate.reply'

interface TellEvent {
  type: typeof TELL_EVENT
  actor: ActorClass
  body: unknown
}

interface ReplyEvent {
  type: typeof REPLY_EVENT
  value: unknown
}

/** A value, or an expression of xstate's action arguments (`{ context, event }`) and params. */
type ValueOrExpr<T, TContext extends MachineContext, TExpressionEvent extends EventObject, TParams, TEvent extends EventObject> =
  | T
  | ((args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => T)

/** The xstate action both helpers return: typed from the machine it is used in. */
type TroupeAction<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
  TEmitted extends AnyEventObject,
> = ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, TEmitted>

/**
 * An xstate action that tells a troupe actor a message once the machine actor's turn
 * succeeds (like `ctx.tell`). The body is checked against the actor's mailbox type.
 *
 * @example
 * const light = setup({ types: { context: {} as { crossing: string } } }).createMachine({
 *   initial: 'green',
 *   states: {
 *     green: { on: { TIMER: 'yellow' } },
 *     yellow: { entry: tellActor(LightLog, ({ context }) => ({ crossing: context.crossing, color: 'yellow' })) },
 *   },
 * })
 */
export function tellActor<
  C extends ActorClass,
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
  TEmitted extends AnyEventObject,
>(actor: C, body: ValueOrExpr<InOf<C>, TContext, TExpressionEvent, TParams, TEvent>): TroupeAction<TContext, TExpressionEvent, TParams, TEvent, TEmitted> {
  return emit((args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams): TellEvent => ({
    type: TELL_EVENT,
    actor,
    body: typeof body === 'function' ? (body as (a: typeof args, p: TParams) => unknown)(args, params) : body,
  })) as unknown as TroupeAction<TContext, TExpressionEvent, TParams, TEvent, TEmitted>
}

/**
 * An xstate action that sets the reply of the machine actor's current turn: what `ask`
 * resolves to (and what a `replyTo` actor receives). The last one in a turn wins; the
 * actor's `reply` option, if given, sees it as its second argument.
 *
 * @example
 * const counter = setup({ types: { context: {} as { count: number } } }).createMachine({
 *   context: { count: 0 },
 *   on: { ADD: { actions: [assign({ count: ({ context }) => context.count + 1 }), replyWith(({ context }) => context.count)] } },
 * })
 */
export function replyWith<
  TValue,
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
  TEmitted extends AnyEventObject,
>(value: ValueOrExpr<TValue, TContext, TExpressionEvent, TParams, TEvent>): TroupeAction<TContext, TExpressionEvent, TParams, TEvent, TEmitted> {
  return emit((args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams): ReplyEvent => ({
    type: REPLY_EVENT,
    value: typeof value === 'function' ? (value as (a: typeof args, p: TParams) => unknown)(args, params) : value,
  })) as unknown as TroupeAction<TContext, TExpressionEvent, TParams, TEvent, TEmitted>
}

/** What the machine emitted in one turn, as far as troupe is concerned. */
export interface EmittedInTurn {
  /** The value of the turn's last `replyWith`; undefined if none ran. */
  reply: unknown
  /** Stops listening (before the xstate actor is stopped). */
  close(): void
}

/**
 * Listens to `actor`'s emitted events for one turn: {@link tellActor} becomes `ctx.tell`,
 * {@link replyWith} sets the reply. Errors (a body the target refuses) go to `fail`,
 * since xstate would otherwise only report them out of band.
 *
 * @example
 * const emitted = listenToEmitted(actor, ctx, (error) => (failure ??= error))
 * actor.start()
 * actor.send(event)
 * emitted.close()
 * return emitted.reply
 */
export function listenToEmitted(actor: AnyActorRef, ctx: Context<unknown>, fail: (error: unknown) => void): EmittedInTurn {
  const out: EmittedInTurn = {
    reply: undefined,
    close: () => {
      tells.unsubscribe()
      replies.unsubscribe()
    },
  }
  const tells = actor.on(TELL_EVENT, (event: TellEvent) => {
    try {
      ctx.tell(event.actor, event.body as never)
    } catch (error) {
      fail(error)
    }
  })
  const replies = actor.on(REPLY_EVENT, (event: ReplyEvent) => {
    out.reply = event.value
  })
  return out
}
