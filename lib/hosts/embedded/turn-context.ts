import type { ActorClass } from '../../core/actor.js'
import type { Context, TurnTellOptions } from '../../core/context.js'
import type { Envelope } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import { derivedId, type CorrelationId, type MessageId } from '../../core/ids.js'
import type { Logger } from '../../core/logger.js'
import { ENVELOPE, type Instance } from './instance.js'

/** A message told during a turn, held until the turn succeeds (nothing leaves from a failed turn). */
export interface Outgoing {
  target: ActorClass | string
  id: MessageId
  body: unknown
  replyTo: string | undefined
  receipt: boolean
}

/** What the turn context needs from its host. */
export interface TurnHost {
  logger: Logger
  /** The envelope of a message kept as a bare body (see `Instance`). */
  rootEnvelope(instance: Instance, body: unknown, seq: number, sentAt: number): Envelope
  /** Checks a body told from a turn as far as can be done synchronously. */
  checkOutgoing(target: ActorClass | string, body: unknown): unknown
  once<T>(messageId: MessageId, name: string, fn: () => T | Promise<T>): Promise<T>
}

export class TurnContext<State = unknown> implements Context<State> {
  state: State
  outbox: Outgoing[] | undefined
  /** Set once the turn has succeeded, failed or timed out; a late tell is then an error. */
  closed = false
  private sent = 0
  private logger: Logger | undefined
  private envelope: Envelope | undefined

  constructor(
    private readonly host: TurnHost,
    readonly instance: Instance,
    /** The mailbox slot: a full envelope, or a bare body when `seq` is not ENVELOPE. */
    private readonly item: unknown,
    private readonly seq: number,
    private readonly sentAt: number,
    state: State,
    readonly startedAt: number,
  ) {
    this.state = state
    if (seq === ENVELOPE) this.envelope = item as Envelope
  }

  /** The envelope, made on first use for messages kept as bare bodies. */
  get message(): Envelope {
    this.envelope ??= this.host.rootEnvelope(this.instance, this.item, this.seq, this.sentAt)
    return this.envelope
  }

  /** The envelope if one exists already; bare-body messages that never needed one have none. */
  materialized(): Envelope | undefined {
    return this.envelope
  }

  get body(): unknown {
    return this.envelope === undefined ? this.item : this.envelope.body
  }

  get key(): string {
    return this.instance.key
  }

  get correlationId(): CorrelationId {
    return this.message.correlationId
  }

  get attempt(): number {
    return this.message.attempt
  }

  get log(): Logger {
    this.logger ??= this.host.logger.child({
      actor: this.message.type,
      key: this.message.key || undefined,
      messageId: this.message.id,
      correlationId: this.message.correlationId,
    })
    return this.logger
  }

  tell(target: ActorClass | string, body: unknown, options?: TurnTellOptions): MessageId {
    if (this.closed) {
      throw new TroupeError(
        'TROUPE_TURN_OVER',
        `${this.message.type} told ${typeof target === 'string' ? target : target.type} after its turn on message ${this.message.id} had ended; tell before receive returns (await your work)`,
      )
    }
    const checked = this.host.checkOutgoing(target, body)
    const id = this.nextId()
    ;(this.outbox ??= []).push({ target, id, body: checked, replyTo: options?.replyTo?.type, receipt: options?.receipt === true })
    return id
  }

  once<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    return this.host.once(this.message.id, name, fn)
  }

  /** The next deterministic id for a message of this turn. */
  nextId(): MessageId {
    return derivedId(this.message.id, this.sent++)
  }
}
