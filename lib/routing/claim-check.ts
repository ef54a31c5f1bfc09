// The claim check: a message body too large for a Kinesis record (or larger than you want to
// pay to move through the stream) is put in a payload store, and the record carries a reference
// in its place; the receiving host fetches it back before the turn, so the actor sees its body as
// sent. Turned on with the AWS mode's `payloads` option (README, "Large messages").
//
// The reference is a body of one field, `{ "@troupe.payload": { key, bytes, sha256 } }`. It is
// honoured only when its key is the one derived from the message's own id and the bytes hash to
// its sha256, so a body made to look like a reference can fetch nothing but its own payload.
import { createHash } from 'node:crypto'
import type { Envelope } from '../core/envelope.js'
import { ConfigError, TroupeError } from '../core/errors.js'
import superjson from 'superjson'
import type { PayloadStore } from '../store/payload-store.js'
import { InvalidEnvelopeError } from './record-errors.js'
import { checkSuperjsonDocument, isPlainObject, nestingExceeds } from './superjson-guard.js'

export const PAYLOAD_FIELD = '@troupe.payload'

/** The record codec's default limits, for payloads too. */
const GUARD = { maxDepth: 64, maxLiteralLength: 10_000 }

export interface ClaimCheckOptions {
  store: PayloadStore
  /** Bodies larger than this (superjson text, bytes) go to the store. @default 256 KiB */
  aboveBytes?: number
  /** How long a payload is kept; keep it above the stream's retention and the dead letters' life. @default 8 days */
  ttlMs?: number
}

interface Reference {
  key: string
  bytes: number
  sha256: string
}

/** A payload's reference was not honoured, or its bytes are gone: a dead letter, never a turn with a wrong body. */
export class PayloadError extends TroupeError {
  constructor(envelope: Pick<Envelope, 'id' | 'type'>, reason: string) {
    super('TROUPE_PAYLOAD', `the body of message ${envelope.id} for ${envelope.type} is kept out of line and ${reason}`)
  }
}

export class ClaimCheck {
  readonly store: PayloadStore
  readonly aboveBytes: number
  readonly ttlMs: number
  /** Restored envelopes → the reference they came with (a dead letter keeps the reference, not the body). */
  private readonly references = new WeakMap<Envelope, unknown>()

  constructor(options: ClaimCheckOptions) {
    if (!options?.store || typeof options.store.put !== 'function' || typeof options.store.get !== 'function') {
      throw new ConfigError('payloads.store must be a PayloadStore (put, get): MemoryPayloadStore, FolderPayloadStore or DynamoDBPayloadStore')
    }
    this.store = options.store
    this.aboveBytes = options.aboveBytes ?? 256 * 1024
    this.ttlMs = options.ttlMs ?? 8 * 24 * 60 * 60_000
    if (!Number.isSafeInteger(this.aboveBytes) || this.aboveBytes < 1) throw new ConfigError(`payloads.aboveBytes must be a whole number of bytes from 1 up, got ${options.aboveBytes}`)
    if (!(this.ttlMs > 0)) throw new ConfigError(`payloads.ttlMs must be a positive number of ms, got ${options.ttlMs}`)
  }

  /** The envelope to send: itself, or a copy whose body is a reference to the stored body. */
  async offload(envelope: Envelope): Promise<Envelope> {
    if (envelope.body === undefined || isReference(envelope.body)) return envelope
    // Stored as the superjson document of `{ body }`, so that restoring it goes through the same
    // guard as a record (no __proto__, bounded depth and literals, safe metadata).
    let doc: ReturnType<typeof superjson.serialize>
    try {
      doc = superjson.serialize({ body: envelope.body } as never)
    } catch (e) {
      throw new InvalidEnvelopeError(envelope.type, envelope.id, `superjson cannot encode its body (${(e as Error).message})`, { cause: e })
    }
    const text = JSON.stringify(doc)
    if (Buffer.byteLength(text) <= this.aboveBytes) return envelope
    const refused = checkSuperjsonDocument(doc.json as Record<string, unknown>, doc.meta, GUARD)
    if (refused) throw new InvalidEnvelopeError(envelope.type, envelope.id, refused)
    const data = Buffer.from(text, 'utf8')
    const ref: Reference = { key: keyOf(envelope), bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('base64') }
    await this.store.put(ref.key, data, Date.now() + this.ttlMs)
    return { ...envelope, body: { [PAYLOAD_FIELD]: ref } }
  }

  /** Envelopes as their actors should see them: references replaced by their bodies. Throws a PayloadError when one cannot be. */
  async restore(envelope: Envelope): Promise<Envelope> {
    if (!isReference(envelope.body)) return envelope
    const reference = envelope.body
    const ref = (reference as Record<string, unknown>)[PAYLOAD_FIELD] as Partial<Reference>
    if (typeof ref !== 'object' || ref === null || ref.key !== keyOf(envelope) || typeof ref.sha256 !== 'string') {
      throw new PayloadError(envelope, 'its reference is not the one troupe writes for this message')
    }
    const data = await this.store.get(ref.key)
    if (data === undefined) throw new PayloadError(envelope, `the payload store has nothing under ${ref.key} (expired, or never written)`)
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new PayloadError(envelope, `the bytes under ${ref.key} do not match its sha256`)
    let body: unknown
    try {
      const text = Buffer.from(data).toString('utf8')
      if (nestingExceeds(text, 2 * GUARD.maxDepth + 8)) throw new Error(`it nests deeper than a body of ${GUARD.maxDepth} levels can`)
      const doc = JSON.parse(text) as { json?: unknown; meta?: unknown }
      if (!isPlainObject(doc) || !isPlainObject(doc.json)) throw new Error('it is not a superjson document of { body }')
      const reason = checkSuperjsonDocument(doc.json, doc.meta, GUARD)
      if (reason) throw new Error(reason)
      body = (superjson.deserialize({ json: doc.json as never, meta: doc.meta as never }) as { body: unknown }).body
    } catch (e) {
      throw new PayloadError(envelope, `the bytes under ${ref.key} do not decode (${(e as Error).message})`)
    }
    envelope.body = body
    this.references.set(envelope, reference)
    return envelope
  }

  /** The envelope as it travelled: with its reference again, when it was restored. */
  travelled(envelope: Envelope): Envelope {
    const reference = this.references.get(envelope)
    return reference === undefined ? envelope : { ...envelope, body: reference }
  }
}

function keyOf(envelope: Pick<Envelope, 'id'>): string {
  return `msg/${envelope.id}`
}

function isReference(body: unknown): boolean {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 1 && Object.hasOwn(body, PAYLOAD_FIELD)
}
