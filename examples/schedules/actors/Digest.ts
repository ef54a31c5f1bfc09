import { Actor, type Context } from 'troupe'

export interface DigestState {
  /** The UTC time (`hh:mm`) of each run, as the cron expression wants them: minutes 00, 05, 10, … */
  runs: string[]
}

/** Runs on a cron expression, every five minutes on the clock (`cron(0/5 * * * ? *)`). */
export class Digest extends Actor<{ schedule: string }, void, DigestState> {
  static readonly type = 'digest'

  initialState(): DigestState {
    return { runs: [] }
  }

  receive(_msg: { schedule: string }, ctx: Context<DigestState>) {
    ctx.state.runs.push(new Date(ctx.message.sentAt).toISOString().slice(11, 16))
  }
}
