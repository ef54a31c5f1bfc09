import { Actor, type Context } from 'troupe'

export interface HeartbeatIn {
  /** What set it off: `rate(1 minute)` for troupe's own schedule, or an EventBridge rule's ARN. */
  from: string
}

export interface HeartbeatState {
  beats: number
  /** Beats per origin. */
  byOrigin: Record<string, number>
  /** When the last beat was sent, epoch ms on the system's clock. */
  lastAt: number
}

/** Runs every minute (`system.schedule(Heartbeat, …, { every: 'rate(1 minute)' })`). A singleton: one state, no key. */
export class Heartbeat extends Actor<HeartbeatIn, void, HeartbeatState> {
  static readonly type = 'heartbeat'

  initialState(): HeartbeatState {
    return { beats: 0, byOrigin: {}, lastAt: 0 }
  }

  receive(msg: HeartbeatIn, ctx: Context<HeartbeatState>) {
    ctx.state.beats++
    ctx.state.byOrigin[msg.from] = (ctx.state.byOrigin[msg.from] ?? 0) + 1
    ctx.state.lastAt = ctx.message.sentAt
  }
}
