import { createHash } from 'node:crypto'
import { customAlphabet } from 'nanoid'

/** A message id: unique per message, stable across retries and replays. */
export type MessageId = string & { readonly __brand: 'MessageId' }
/** The id shared by every message of one request (the root message's id unless the caller gave one). */
export type CorrelationId = string & { readonly __brand: 'CorrelationId' }

/** Derived ids longer than this are hashed, so long causal chains keep short ids. */
const MAX_DERIVED_ID_LENGTH = 64

/**
 * The random part of root ids: nanoid's alphabet without '-', so no id starts with one and a
 * command line never takes an id for an option (`troupe inspect message <id>`).
 */
const randomPrefix = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz', 21)

/**
 * Root ids: 21 random characters per generator (125 bits) plus a counter. One nanoid per
 * message costs ~0.4 µs here, more than a whole embedded turn; the counter keeps ids
 * unique and cheap, and lets a mailbox keep the number until the string is needed.
 */
export class RootIds {
  private readonly prefix = randomPrefix()
  private n = 0
  /** `seq / LOW_SPAN` of the last id made, and the prefix with that number's digits. */
  private high = -1
  private highPrefix = ''

  /** Reserves the next sequence number. */
  next(): number {
    return this.n++
  }

  /**
   * The id of a reserved sequence number: the prefix and `seq` in base 36. Ids come in sequence,
   * so the digits above the last two change once per LOW_SPAN ids: kept with the prefix, the
   * id is one concatenation with a ready-made pair of digits, not a number formatted per id.
   */
  id(seq: number): MessageId {
    const high = Math.floor(seq / LOW_SPAN)
    if (high <= 0 || !Number.isSafeInteger(seq)) return `${this.prefix}${seq.toString(36)}` as MessageId
    if (high !== this.high) {
      this.high = high
      this.highPrefix = `${this.prefix}${high.toString(36)}`
    }
    return (this.highPrefix + LOW_DIGITS[seq - high * LOW_SPAN]) as MessageId
  }
}

/** Two base-36 digits span this many numbers. */
const LOW_SPAN = 36 * 36
/** Every pair of base-36 digits, "00" to "zz", by value. */
const LOW_DIGITS = Array.from({ length: LOW_SPAN }, (_, i) => i.toString(36).padStart(2, '0'))

/**
 * `.0` to `.zz`, the end of a derived id at each small position, made once: a fork's children and
 * a turn's messages take these, so their ids cost one concatenation and no number formatted.
 */
const POSITIONS = Array.from({ length: LOW_SPAN }, (_, i) => `.${i.toString(36)}`)

/**
 * The id of the `position`-th message sent during the turn of `parent`.
 * Deterministic, so a replayed turn re-sends the same ids and receivers drop duplicates.
 */
export function derivedId(parent: MessageId, position: number | string): MessageId {
  const id = parent + (typeof position === 'number' ? (POSITIONS[position] ?? `.${position.toString(36)}`) : `.${position}`)
  if (id.length <= MAX_DERIVED_ID_LENGTH) return id as MessageId
  return `h${createHash('sha256').update(id).digest('base64url').slice(0, 24)}` as MessageId
}

/** Accepts a caller's id at the boundary: a non-empty string of at most 256 characters. */
export function parseMessageId(value: unknown, what = 'message id'): MessageId {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new TypeError(`${what} must be a string of 1 to 256 characters, got ${describe(value)}`)
  }
  return value as MessageId
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  return value === null ? 'null' : typeof value
}
