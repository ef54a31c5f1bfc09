import { Actor, type Context } from 'troupe'
import { AccountMessage, type AccountView } from '../schemas.js'
import { Audit } from './Audit.js'

export interface AccountState {
  balances: Record<string, number>
  deposits: number
}

/** One account (keyed by id): applies deposits in order, answers reads with its view. */
export class Account extends Actor<AccountMessage, AccountView, AccountState> {
  static readonly type = 'account'
  static readonly schema = AccountMessage

  key(msg: AccountMessage) {
    return msg.id
  }

  initialState(): AccountState {
    return { balances: {}, deposits: 0 }
  }

  receive(msg: AccountMessage, ctx: Context<AccountState>): AccountView {
    if (msg.op === 'deposit') {
      ctx.state.balances[msg.currency] = (ctx.state.balances[msg.currency] ?? 0) + msg.amount
      ctx.state.deposits++
      ctx.log.info('deposit applied', { amount: msg.amount, currency: msg.currency, balance: ctx.state.balances[msg.currency] })
      ctx.tell(Audit, { account: msg.id, event: 'deposit', amount: msg.amount, currency: msg.currency })
    }
    return { id: msg.id, balances: { ...ctx.state.balances }, deposits: ctx.state.deposits }
  }
}
