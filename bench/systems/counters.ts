// The counters of the durable adapters, in a module of their own so the AWS mode (troupe-aws)
// and the Lambda host bundle (lambda-host.ts, troupe-lambda) run the same classes.
import { Actor, type Context } from '../../lib/index.js'

type Count = { count: number }

/** W1: a singleton counter (one partition key, one instance). */
export class Counter extends Actor<{ by: number }, void, Count> {
  static readonly type = 'counter'
  initialState() {
    return { count: 0 }
  }
  receive(msg: Counter['In'], ctx: Context<Count>) {
    ctx.state.count += msg.by
  }
}

/** W2: a counter per key. */
export class KeyedCounter extends Actor<{ k: string; by: number }, void, Count> {
  static readonly type = 'keyedCounter'
  key(msg: KeyedCounter['In']) {
    return msg.k
  }
  initialState() {
    return { count: 0 }
  }
  receive(msg: KeyedCounter['In'], ctx: Context<Count>) {
    ctx.state.count += msg.by
  }
}

/**
 * W3: a counter per key that replies with its count. A run asks one key of its own, as Restate's
 * W3 does, so runs that share a table (troupe-lambda-invoke's warm-up and measured run) each count from 0.
 */
export class AskCounter extends Actor<{ k: string; by: number }, number, Count> {
  static readonly type = 'askCounter'
  key(msg: AskCounter['In']) {
    return msg.k
  }
  initialState() {
    return { count: 0 }
  }
  receive(msg: AskCounter['In'], ctx: Context<Count>) {
    return (ctx.state.count += msg.by)
  }
}

export const COUNTERS = [Counter, KeyedCounter, AskCounter]
export type { Count }
