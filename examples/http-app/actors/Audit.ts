import { Actor, type Context } from 'troupe'

export interface AuditIn {
  account: string
  event: string
  amount: number
  currency: string
}

/** Stateless: writes the audit trail as structured log lines, under the request's correlation id. */
export class Audit extends Actor<AuditIn> {
  static readonly type = 'audit'

  receive(msg: AuditIn, ctx: Context) {
    ctx.log.info('audit', { ...msg })
  }
}
