// Lineage: each record carries the chain of components that made it — which component, at
// which version, in which message — so a row in a sink can say where it came from.
import type { Context } from '../core/context.js'

export interface LineageStep {
  /** The actor type of the component. */
  component: string
  /** The component's version (its `static version`), so a change of code shows in the data. */
  version: string
  /** The message whose turn made this step. */
  messageId: string
}

/** A record and its lineage, oldest step first. */
export interface Traced<T> {
  data: T
  lineage: LineageStep[]
}

/**
 * The record `data` made by this turn: the lineage of `from` (the record it was made from, if
 * any) and this component's step.
 *
 * @example
 * class Parse extends Actor<Traced<string>, Traced<Reading>> {
 *   static readonly type = 'parse'
 *   static readonly version = '1.1.0'
 *   receive(line: Traced<string>, ctx: Context) { return traced(ctx, Parse.version, parse(line.data), line) }
 * }
 */
export function traced<T>(ctx: Pick<Context<unknown>, 'message'>, version: string, data: T, from?: { lineage: readonly LineageStep[] }): Traced<T> {
  return { data, lineage: [...(from?.lineage ?? []), { component: ctx.message.type, version, messageId: ctx.message.id }] }
}
