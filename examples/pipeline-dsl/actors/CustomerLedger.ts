import { Actor, type Context } from 'troupe'
import type { Decision } from './messages.js'

export interface LedgerState {
  accepted: string[]
  refused: { orderId: string; reason: string }[]
  /** Cents. */
  spent: number
}

/** The sink: one ledger per customer (keyed), the end of the pipeline (its reply is void). */
export class CustomerLedger extends Actor<Decision, void, LedgerState> {
  static readonly type = 'customerLedger'

  key(msg: Decision) {
    return msg.customer
  }

  initialState(): LedgerState {
    return { accepted: [], refused: [], spent: 0 }
  }

  receive(msg: Decision, ctx: Context<LedgerState>) {
    if (msg.accepted) {
      ctx.state.accepted.push(msg.orderId)
      ctx.state.spent += msg.total
    } else {
      ctx.state.refused.push({ orderId: msg.orderId, reason: msg.reason ?? 'refused' })
    }
  }
}
