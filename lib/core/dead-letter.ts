import { createHash } from 'node:crypto'
import type { Envelope, Origin } from './envelope.js'
import { TroupeError } from './errors.js'
import type { MessageId } from './ids.js'

/** One failed attempt at a message. */
export interface AttemptRecord {
  attempt: number
  /** Epoch milliseconds. */
  startedAt: number
  endedAt: number
  error: ErrorRecord
}

/** An error as it is kept: plain data, so it survives serialisation. */
export interface ErrorRecord {
  name: string
  message: string
  code?: string
  stack?: string
}

/**
 * A replay's hold on a letter (docs/guarantees.md, "Replays of dead letters"): the letter stays
 * until the replay's message is on its stream, so a replay that stops part-way (its send failed,
 * its process died) leaves it, and a replay of it again takes the hold over.
 */
export interface ReplayClaim {
  /** This replay's own id: only it changes or ends the hold. */
  id: string
  /** Epoch ms: until then the replay holds the letter; after it, a replay of the letter takes over. */
  until: number
}

/** A letter held for a replay, and where a replay of it may have sent its message. */
export interface HeldDeadLetter {
  letter: DeadLetter
  /** How many replays have held this letter, this one included: a later replay's note outranks an earlier one's. */
  gen: number
  /**
   * Where a replay may have sent the message (its instance noted it before): every later replay
   * of the letter sends it there again, or nothing. Kept with the letter until it is deleted.
   */
  sentAs?: Origin
}

/** A message that will not be processed without help: the full envelope, the error and every attempt. */
export interface DeadLetter {
  envelope: Envelope
  error: ErrorRecord
  attempts: AttemptRecord[]
  /**
   * When the message died, epoch milliseconds: when its last attempt failed; for a message no
   * send could deliver or no host could run (its type unknown, its payload gone), when it was sent
   * (`sentAt`, never after its record arrived); for a record that is no message, when it arrived
   * on its stream; for a timer that could not fire, its due time; and for a replayed message,
   * later than the letter it came from. Each is the same on a copy of the letter's write (an
   * outbox sent again, a record delivered again), which is how the journal knows a copy from a
   * later death of the message.
   */
  deadAt: number
}

/** The code of the letter of a record that is no message (routing/unreadable-record.ts). */
const BAD_RECORD = 'TROUPE_BAD_RECORD'
/** Ids a record may claim: at most this many characters (routing/envelope-fields.ts). */
const MAX_ID_CHARS = 256

/**
 * Whose death a letter holds: its actor type and key, and whether it keeps a record that was no
 * message. A journal replaces a letter only with a later death of the same message; a record may
 * claim any id, so a letter whose id holds another message's letter (or what is left of one
 * replayed) is kept under an id of its own instead (`movedLetter`), never in its place.
 */
export function letterOwner(letter: DeadLetter): string {
  const { type, key } = letter.envelope
  return digest(JSON.stringify([type, key, letter.error.code === BAD_RECORD]))
}

/** What a journal holds under a letter's id: whose death, when, and whether only what is left of it (it was replayed or taken). */
export interface LetterThere {
  /** Undefined when the journal cannot tell (an item written before owners were kept, or one it cannot read). */
  owner: string | undefined
  deadAt: number | undefined
  ended: boolean
}

/**
 * What to do with a letter of `owner` that died at `deadAt`, given what its id holds: `write` it
 * (nothing there, or an earlier death of the same message), leave it (`kept`: the same death again,
 * a copy of its write, or an older one), or keep it under an id of its own (`another`: another
 * message's letter). What is left of a letter from before owners were kept cannot say whose it
 * was: an older death there is taken for a copy, as it always was (it may be this message's, whose
 * later death was replayed), a later one is kept beside it. A live letter that cannot be read is
 * never taken for this one.
 */
export function placeLetter(there: LetterThere | undefined, owner: string, deadAt: number): 'write' | 'kept' | 'another' {
  if (there === undefined || there.deadAt === undefined) return 'write'
  if (there.owner === owner) return deadAt > there.deadAt ? 'write' : 'kept'
  if (there.owner === undefined && (there.ended || deadAt === there.deadAt)) return deadAt > there.deadAt ? 'another' : 'kept'
  return 'another'
}

/**
 * The letter under the id it is kept by when its own holds another message's letter: the same
 * for every copy of its write and every death of its message, so a copy is known as one there and
 * a later death replaces it. Its replay sends it under that id. Its error says where it came from.
 */
export function movedLetter(letter: DeadLetter, owner: string): DeadLetter {
  const from = letter.envelope.id
  const joined = `${from}~${owner}`
  const id = (joined.length <= MAX_ID_CHARS ? joined : `h${createHash('sha256').update(joined).digest('base64url').slice(0, 24)}`) as MessageId
  const note = ` (kept as letter ${id}: letter ${from} holds another message's death)`
  return { ...letter, envelope: { ...letter.envelope, id }, error: { ...letter.error, message: letter.error.message + note } }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16)
}

/** How many times a letter is moved on from ids other messages' letters hold before its write fails, naming it. */
export const MAX_LETTER_MOVES = 3

/** A letter whose id, and every id it was moved to, holds another message's letter: it is not written, and its batch comes again. */
export function lettersInTheWay(letter: DeadLetter): TroupeError {
  return new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `the dead letter of message ${letter.envelope.id} (actor ${letter.envelope.type}) was not written: its id and the ${MAX_LETTER_MOVES} ids it was moved to hold other messages' letters`)
}

export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack ? { stack: error.stack } : {}),
    }
  }
  return { name: 'NonError', message: safeString(error) }
}

/** An Error made again from its record, for whoever takes errors (listeners): its name, message, code and stack as kept. */
export function recordedError(record: ErrorRecord): Error {
  const error = new Error(record.message) as Error & { code?: string }
  error.name = record.name
  if (record.code !== undefined) error.code = record.code
  if (record.stack !== undefined) error.stack = record.stack
  return error
}

function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
