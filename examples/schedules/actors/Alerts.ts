import { Actor, type Context } from 'troupe'

export interface AlertIn {
  topic: string
  subject: string
  text: string
}

export interface AlertsState {
  count: number
  last: { subject: string; text: string } | null
}

/** The alerts of one SNS topic, fed by `fromSns` with a `map` from the notification to this mailbox. */
export class Alerts extends Actor<AlertIn, void, AlertsState> {
  static readonly type = 'alerts'

  key(msg: AlertIn) {
    return msg.topic
  }

  initialState(): AlertsState {
    return { count: 0, last: null }
  }

  receive(msg: AlertIn, ctx: Context<AlertsState>) {
    ctx.state.count++
    ctx.state.last = { subject: msg.subject, text: msg.text }
  }
}
