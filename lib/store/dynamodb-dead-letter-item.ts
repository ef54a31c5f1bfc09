// A dead letter as the DynamoDB journal keeps it (dynamodb-journal.ts): one item under
// `deadletters` / `i#<message id>`.
//
// - The letter is the superjson text of the whole DeadLetter, in `letter`. superjson refuses
//   objects with keys named `__proto__`, `constructor` or `prototype`, which JSON.parse makes from
//   plain data and the embedded mode accepts; such keys in the body are written with a `~` in
//   front (and keys already of the form `~…__proto__` etc. with one more), flagged by `escaped`,
//   and restored as own properties on read, never as prototypes.
// - A letter whose item would pass 400 KB is kept whole in a payload store under
//   `dead/<message id>/<sha256 of the text>` (`payloadKey`); its item then holds `payload` (key,
//   bytes, sha256) and, in `letter`, a summary: the envelope with its body replaced by
//   `{ "@troupe.deadLetter": { key, bytes, sha256 } }`, the error shortened, no attempts. The
//   summary is what is shown when the whole letter cannot be read.
// - A body superjson cannot encode is replaced by `{ truncated: true, reason }`, flagged by
//   `truncated`, and the error says so: a letter is never refused for its body.
// - `who` names whose death it is (core/dead-letter.ts's letterOwner): a later letter under the
//   same id replaces it only when it is the same message's. It stays when the letter ends.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { TroupeError } from '../core/errors.js'
import { decode, encode } from '../core/serialization.js'
import { letterOwner, type DeadLetter, type ErrorRecord } from '../core/dead-letter.js'
import type { CorrelationId, MessageId } from '../core/ids.js'
import { unescapeBody } from '../core/guarded-keys.js'
import { writableLetter } from '../core/writable-letter.js'
import { MAX_SORT_KEY_BYTES, sha256 } from './dynamodb-table.js'

export type Item = Record<string, AttributeValue>
export type Key = { pk: { S: string }; sk: { S: string } }

export const DEAD_LETTERS_PK = 'deadletters'
/** How much of the error message the summary of a letter kept in the payload store holds. */
const SUMMARY_ERROR_CHARS = 8_000
/** A message id longer than this (URI-encoded) is named by its hash in a payload key, so every store takes the key. */
const READABLE_ID_CHARS = 120
/** The field of a summary letter's body that names where the whole letter is. */
const LETTER_FIELD = '@troupe.deadLetter'

export function letterKey(id: string): Key {
  const readable = `i#${id}`
  const sk = Buffer.byteLength(readable) <= MAX_SORT_KEY_BYTES ? readable : `h#${sha256(id).toString('hex')}`
  return { pk: { S: DEAD_LETTERS_PK }, sk: { S: sk } }
}

export function labelOf(letter: DeadLetter): string {
  return `message ${letter.envelope.id} (actor ${letter.envelope.type})`
}

/** A letter as it is kept: its superjson text (the body's guarded keys escaped). */
export interface LetterText {
  letter: DeadLetter
  text: string
  escaped: boolean
  /** Why the body was left out: superjson could not encode it. */
  unencodable?: string
}

/** Where a letter too large for an item is kept whole. */
export interface LetterReference {
  key: string
  bytes: number
  sha256: string
}

/** A letter's bytes in the payload store are gone or changed. */
export class DeadLetterPayloadError extends TroupeError {
  constructor(
    item: Item,
    readonly ref: LetterReference,
    readonly problem: string,
  ) {
    super('TROUPE_DEAD_LETTER_PAYLOAD', `dead letter of message ${idOf(item)} (actor ${item.type?.S}) is kept whole in the payload store under ${ref.key} (${ref.bytes} bytes), and ${problem}`)
  }
}

/** The whole letter as superjson text (writable-letter.ts: never refused for its body). */
export function letterText(letter: DeadLetter): LetterText {
  const { text, escaped, unencodable } = writableLetter(letter)
  return unencodable === undefined ? { letter, text, escaped } : { letter, text, escaped, unencodable }
}

/** The item of a letter kept whole in it. */
export function letterItem(letter: DeadLetter, text: LetterText): Item & Key {
  const item: Item & Key = {
    ...letterKey(letter.envelope.id),
    type: { S: letter.envelope.type },
    deadAt: { N: String(letter.deadAt) },
    who: { S: letterOwner(letter) },
    letter: { S: text.text },
  }
  if (text.escaped) item.escaped = { BOOL: true }
  if (text.unencodable !== undefined) item.truncated = { BOOL: true }
  return item
}

/**
 * The item of a letter kept in the payload store: where it is, and a summary letter (the envelope
 * with its body replaced by the reference, the error shortened, no attempts) for when its bytes
 * cannot be read.
 */
export function summaryItem(text: LetterText, ref: LetterReference): Item & Key {
  const { letter } = text
  const message = letter.error.message.length > SUMMARY_ERROR_CHARS ? `${letter.error.message.slice(0, SUMMARY_ERROR_CHARS)}… (${letter.error.message.length} characters)` : letter.error.message
  const error: ErrorRecord = { name: letter.error.name, message, ...(letter.error.code === undefined ? {} : { code: letter.error.code }) }
  const summary: DeadLetter = { envelope: { ...letter.envelope, body: { [LETTER_FIELD]: ref } }, error, attempts: [], deadAt: letter.deadAt }
  const item: Item & Key = {
    ...letterKey(letter.envelope.id),
    type: { S: letter.envelope.type },
    deadAt: { N: String(letter.deadAt) },
    who: { S: letterOwner(letter) },
    letter: { S: encode(summary) },
    payload: { M: { key: { S: ref.key }, bytes: { N: String(ref.bytes) }, sha256: { S: ref.sha256 } } },
  }
  if (text.escaped) item.escaped = { BOOL: true }
  if (text.unencodable !== undefined) item.truncated = { BOOL: true }
  return item
}

export function referenceOf(item: Item): LetterReference | undefined {
  const m = item.payload?.M
  if (m?.key?.S === undefined || m.sha256?.S === undefined) return undefined
  return { key: m.key.S, bytes: Number(m.bytes?.N), sha256: m.sha256.S }
}

/** `dead/<message id>/<sha256 of the letter>`: the id readable when it is short, its hash when not. */
export function payloadKey(id: string, digest: Buffer): string {
  const readable = encodeURIComponent(id).length <= READABLE_ID_CHARS ? id : `h-${sha256(id).toString('hex')}`
  return `dead/${readable}/${digest.toString('base64url')}`
}

/** A letter's item whose text troupe cannot read: written by hand, or damaged. Listed as its key says it; never replayed. */
export class UnreadableLetterError extends TroupeError {
  constructor(
    item: Item,
    readonly problem: string,
  ) {
    super('TROUPE_DEAD_LETTER_UNREADABLE', `dead letter ${item.sk?.S ?? '(no sort key)'} (actor ${item.type?.S ?? 'unknown'}) cannot be read: ${problem}; its item is left as it is`)
  }
}

/** The letter in `text` (the item's own, or the whole one from the payload store), its escaped keys restored. */
export function readLetterText(text: string, item: Item): DeadLetter {
  let letter: unknown
  try {
    letter = decode<unknown>(text)
  } catch (error) {
    throw new UnreadableLetterError(item, `its text is no superjson document (${error instanceof Error ? error.message : String(error)})`)
  }
  if (!isLetter(letter)) throw new UnreadableLetterError(item, 'its text holds no dead letter (an envelope with an id and a type, and an error)')
  // A summary read as the whole letter would replay its placeholder as the message's body.
  if (referenceOf(item) === undefined && isSummaryBody(letter.envelope.body)) throw new UnreadableLetterError(item, 'its text is the summary of a letter kept whole in the payload store, and the item no longer says where (its payload attribute)')
  if (item.escaped?.BOOL) letter.envelope.body = unescapeBody(letter.envelope.body)
  return letter
}

/** A summary's placeholder body: `{ "@troupe.deadLetter": { key, bytes, sha256 } }` and nothing else. */
function isSummaryBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Object.keys(body).length !== 1) return false
  const ref = (body as Record<string, unknown>)[LETTER_FIELD] as Partial<LetterReference> | undefined
  return typeof ref?.key === 'string' && typeof ref.sha256 === 'string'
}

function isLetter(value: unknown): value is DeadLetter {
  const letter = value as { envelope?: { id?: unknown; type?: unknown } | null; error?: unknown } | null | undefined
  return typeof letter?.envelope === 'object' && letter.envelope !== null && typeof letter.envelope.id === 'string' && typeof letter.envelope.type === 'string' && typeof letter.error === 'object' && letter.error !== null
}

/**
 * What can be said of a letter's item troupe cannot read: its id (from its sort key), its actor and
 * its death, and why in its error. Listed so that it is never hidden; a replay reads the item whole
 * and refuses it.
 */
export function unreadableLetter(item: Item, error: UnreadableLetterError): DeadLetter {
  const sk = item.sk?.S ?? ''
  const id = (sk.startsWith('i#') ? sk.slice(2) : sk) as MessageId
  // A long id's key is its hash: the letter cannot be named by its id, and says so.
  const message = sk.startsWith('i#') ? error.message : `${error.message}; its message id is not in its key (a long id is kept as its hash), so it cannot be replayed by id`
  const deadAt = Number(item.deadAt?.N)
  const at = Number.isFinite(deadAt) ? deadAt : 0
  return {
    envelope: { id, type: item.type?.S ?? '', key: '', body: undefined, correlationId: id as string as CorrelationId, parentId: undefined, causationId: undefined, attempt: 0, sentAt: at, replyTo: undefined, deadline: undefined },
    error: { name: 'UnreadableDeadLetter', code: error.code, message },
    attempts: [],
    deadAt: at,
  }
}

/** The summary of a letter whose whole bytes cannot be read, saying so in its error. */
export function summaryLetter(item: Item, error: DeadLetterPayloadError): DeadLetter {
  let letter: unknown
  try {
    letter = decode<unknown>(item.letter?.S ?? '')
  } catch {
    letter = undefined
  }
  // Its bytes gone and its summary unreadable too: listed by its key, as any letter troupe cannot read.
  if (!isLetter(letter)) return unreadableLetter(item, new UnreadableLetterError(item, `the whole letter was kept under payload key ${error.ref.key}, and ${error.problem}; its summary holds no dead letter`))
  letter.error = { ...letter.error, message: `${letter.error.message} [troupe: the whole letter (${error.ref.bytes} bytes) is kept under payload key ${error.ref.key}, and ${error.problem}: shown without its body and attempts]` }
  return letter
}

/** The message id of an item: from its summary (a long id's sort key is its hash). */
function idOf(item: Item): string {
  try {
    return decode<DeadLetter>(item.letter?.S ?? '').envelope.id
  } catch {
    return item.sk?.S ?? '(unknown)'
  }
}
