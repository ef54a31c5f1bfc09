import { Actor, type Context } from 'troupe'

export interface InstanceStateIn {
  instanceId: string
  state: string
  /** ISO 8601, from the event. */
  at: string
}

export interface InstanceStateState {
  current: string
  history: { state: string; at: string }[]
}

/** An EC2 instance's state, from EventBridge's "EC2 Instance State-change Notification" events (`fromEventBridge`). */
export class InstanceState extends Actor<InstanceStateIn, void, InstanceStateState> {
  static readonly type = 'instanceState'

  key(msg: InstanceStateIn) {
    return msg.instanceId
  }

  initialState(): InstanceStateState {
    return { current: 'unknown', history: [] }
  }

  receive(msg: InstanceStateIn, ctx: Context<InstanceStateState>) {
    ctx.state.history.push({ state: msg.state, at: msg.at })
    ctx.state.history.sort((a, b) => a.at.localeCompare(b.at)) // events may come out of order
    ctx.state.current = ctx.state.history.at(-1)!.state
  }
}
