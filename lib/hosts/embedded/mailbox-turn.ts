import type { Envelope } from '../../core/envelope.js'
import type { TurnJournal } from '../../core/turn-journal.js'
import { TurnContext, type TurnHost } from '../../turn/turn-context.js'
import type { Instance } from './instance.js'
import { ENVELOPE } from './mailbox.js'

/** Makes the envelope of a message the mailbox kept as a bare body. */
export interface RootEnvelopes {
  rootEnvelope(inst: Instance, body: unknown, seq: number, sentAt: number): Envelope
}

/**
 * A turn on a mailbox slot: a full envelope, or a bare body (seq is then its root id's
 * sequence number) whose envelope is made only if the turn asks for it.
 */
export class MailboxTurn extends TurnContext<unknown, Instance> {
  declare protected readonly host: TurnHost & RootEnvelopes
  private envelope: Envelope | undefined

  constructor(
    host: TurnHost & RootEnvelopes,
    instance: Instance,
    private readonly item: unknown,
    readonly seq: number,
    private readonly sentAt: number,
    state: unknown,
    startedAt: number,
    journal: TurnJournal | undefined,
  ) {
    super(host, instance, state, startedAt, journal)
    if (seq === ENVELOPE) this.envelope = item as Envelope
  }

  get message(): Envelope {
    this.envelope ??= this.host.rootEnvelope(this.instance, this.item, this.seq, this.sentAt)
    return this.envelope
  }

  materialized(): Envelope | undefined {
    return this.envelope
  }

  get body(): unknown {
    return this.envelope === undefined ? this.item : this.envelope.body
  }
}
