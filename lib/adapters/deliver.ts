// What every adapter shares: told in order, one message per source record; a record that can
// never become a message (it fails to convert, or the actor's schema refuses it) is refused and
// logged, never retried; one that failed only to be sent is reported for the source to retry.
import type { ActorClass, InOf } from '../core/actor.js'
import { ConfigError, NotSerializableError, UnknownActorError, ValidationError } from '../core/errors.js'
import type { MessageId } from '../core/ids.js'
import { createLogger, type Logger } from '../core/logger.js'
import type { System } from '../core/system.js'

/** Turns one record, in the adapter's shape, into the actor's message; `undefined` skips it. */
export type ToMessage<T, C extends ActorClass> = (item: T) => InOf<C> | undefined

export interface AdapterOptions<T, C extends ActorClass> {
  /** Turns the adapter's shape into the actor's mailbox. Needed unless the mailbox takes that shape as it is. */
  map?: ToMessage<T, C>
  /** Where refused records are logged, one JSON line each. @default JSON lines on stderr at "warn" */
  logger?: Logger
}

/**
 * The adapter's options: optional when the actor's mailbox takes the adapter's shape as it
 * is, and with a required `map` when it does not (so a mismatch is a compile error).
 */
export type AdapterArgs<T, C extends ActorClass> = [T] extends [InOf<C>]
  ? [options?: AdapterOptions<T, C>]
  : [options: AdapterOptions<T, C> & { map: ToMessage<T, C> }]

/** What an adapter did with one event. */
export interface Delivered {
  /** The source record's id and the id of the message it became, in the source's order. */
  told: { record: string; messageId: MessageId }[]
  /** Records that are not for this adapter (another S3 event, `map` returned undefined). */
  skipped: string[]
  /** Records that can never become a message, and why; logged, never retried. */
  refused: { record: string; error: string }[]
  /** Records accepted by nobody because the send failed; the source should deliver them again. */
  failed: { record: string; error: string }[]
}

/** One source record, converted (or not) to the adapter's shape. */
export interface SourceItem<T> {
  /** The record's id at its source (S3 sequencer, SNS MessageId, stream eventID, event id). */
  record: string
  /** The id of the request it belongs to at its source: the messages' correlation id. */
  correlationId: string
  /** The converted record, or the reason it could not be converted, or nothing if it is not for this adapter. */
  item?: T
  error?: unknown
  skip?: boolean
}

/** Errors that sending again can never fix. */
function isPermanent(error: unknown): boolean {
  return error instanceof ValidationError || error instanceof NotSerializableError || error instanceof UnknownActorError || error instanceof ConfigError
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Tells `actor` one message per item, all issued at once in the source's order (so messages of
 * one key keep it), and sorts the outcome into told, skipped, refused and failed.
 */
export async function deliver<T, C extends ActorClass>(
  source: string,
  system: System,
  actor: C,
  items: readonly SourceItem<T>[],
  options: AdapterOptions<T, C> | undefined,
): Promise<Delivered> {
  const logger = options?.logger ?? createLogger('warn')
  const map = options?.map ?? ((item: T) => item as unknown as InOf<C>)
  const out: Delivered = { told: [], skipped: [], refused: [], failed: [] }
  const refuse = (record: string, error: unknown) => {
    out.refused.push({ record, error: messageOf(error) })
    logger.warn(`${source} record refused for ${actor.type}`, { source, record, actor: actor.type, error: messageOf(error) })
  }
  const sends: { record: string; sent: Promise<MessageId> }[] = []
  for (const it of items) {
    if (it.skip) {
      out.skipped.push(it.record)
      continue
    }
    if (it.error !== undefined) {
      refuse(it.record, it.error)
      continue
    }
    let body: InOf<C> | undefined
    try {
      body = map(it.item as T)
    } catch (error) {
      refuse(it.record, new Error(`map threw: ${messageOf(error)}`))
      continue
    }
    if (body === undefined) {
      out.skipped.push(it.record)
      continue
    }
    // tell() may throw before it returns a promise (a schema refusal): keep both in one promise.
    sends.push({ record: it.record, sent: Promise.resolve().then(() => system.tell(actor, body, { correlationId: it.correlationId })) })
  }
  const settled = await Promise.allSettled(sends.map((s) => s.sent))
  settled.forEach((result, i) => {
    const { record } = sends[i]!
    if (result.status === 'fulfilled') out.told.push({ record, messageId: result.value })
    else if (isPermanent(result.reason)) refuse(record, result.reason)
    else out.failed.push({ record, error: messageOf(result.reason) })
  })
  return out
}

/** Thrown by an adapter whose sends failed, so Lambda invokes it again with the same event. */
export class AdapterSendError extends Error {
  readonly delivered: Delivered
  constructor(source: string, actor: string, delivered: Delivered) {
    const first = delivered.failed[0]
    super(
      `${source} → ${actor}: ${delivered.failed.length} record(s) could not be sent (first: ${first?.record}: ${first?.error}); ` +
        `${delivered.told.length} were, and are sent again when the event is retried`,
    )
    this.name = 'AdapterSendError'
    this.delivered = delivered
  }
}

/** Resolves to what was delivered, or throws when a send failed (for sources Lambda retries as a whole event). */
export function allOrThrow(source: string, actor: ActorClass, delivered: Delivered): Delivered {
  if (delivered.failed.length > 0) throw new AdapterSendError(source, actor.type, delivered)
  return delivered
}
