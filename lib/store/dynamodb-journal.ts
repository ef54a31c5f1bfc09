// The journal in DynamoDB: receipts (with the replies of `ask`) and dead letters, on the table
// the state and timer stores use (same `pk`/`sk` keys, no index, no transactions, no Scan).
//
// Key design:
//
//   item            pk                      sk                                       attributes
//   receipt entry   receipt#<message id>    e#<attempt, 6 digits>#<rank>#<status>    actor, key, status, at, attempt, reason?,
//                                                                                    reply?, error? (JSON), exp (ms), ttl (s),
//                                                                                    cid?, par?, sent? (its place in a trace)
//   dead letter     deadletters             i#<message id>                           type, deadAt, letter (superjson),
//                                                                                    escaped?, truncated?, payload?
//   trace link      trace#<correlation id>  m#<message id>                           id, actor, key, parent?, sentAt, exp, ttl
//
// - Trace links: written beside a receipt entry that carries `trace`, one per message of a request
//   (the same item however often it is written), so `trace(correlationId)` is one Query; the
//   statuses come from the messages' receipts.
//
// - Receipts: one partition per message and one item per entry, so writing an entry never reads
//   or rewrites the others. The sort key is made of the entry's attempt and status alone (rank:
//   accepted 0 = paused 0 = throttled 0 (by name) < running 1 < retrying 2 < done/filtered/dead 3; see `receiptEntryKey`, which the
//   memory store shares), so a redelivered batch that writes an entry again overwrites it with
//   itself, and one Query reads the history in order. `receipt(id, now)` is that Query (paged):
//   entries whose `exp` (epoch ms) is past are dropped there, because DynamoDB's TTL deletes up
//   to days late and dynalite has no TTL at all; `ttl` (epoch seconds, rounded up so TTL never
//   deletes an entry early) is for the table's TTL, which must be enabled on the attribute `ttl`
//   (createTable does not). Writes are BatchWriteItem, 25 items a call, unprocessed items retried
//   with backoff.
// - Dead letters: one partition (`deadletters`) with one item per message, so a letter is found,
//   replaced and taken by its id alone: `takeDeadLetter` is one DeleteItem that answers with the
//   old item. Listing is one Query over the partition (paged; filtered by actor type on the server,
//   which saves bandwidth, not reads). The partition shares one partition's throughput (1,000
//   writes/s) and, since the table has a local index, is capped at 10 GB: dead letters are
//   meant to be few and handled, not to pile up. They carry no `ttl`: they are kept until taken.
// - The letter is the superjson text of the whole DeadLetter. superjson refuses objects with
//   keys named `__proto__`, `constructor` or `prototype`, which JSON.parse makes from plain data
//   and the embedded mode accepts; such keys in the body are written with a `~` in front (and
//   keys already of the form `~…__proto__` etc. with one more), flagged by `escaped`, and
//   restored as own properties on read, never as prototypes.
// - Keys longer than DynamoDB allows (2,048 bytes for `pk`, 1,024 for `sk`) are replaced by a
//   SHA-256 under a different prefix (`receiptx#`, `h#`), so a readable key never collides with
//   a hashed one.
// - Receipt entries over DynamoDB's 400 KB (a large reply) are refused by message id and actor
//   before anything is sent. Dead letters are never refused or cut for their size: a letter whose
//   item would pass 400 KB (a large body, an unreadable record of megabytes, thousands of attempts)
//   is kept whole in the payload store (the claim check's port; by default DynamoDB chunks in this
//   table, `payload#dead/…`, with no `ttl`), and its item keeps `payload` (key, bytes, sha256) and a
//   summary letter (the envelope without its body, the error shortened), so it is still listed,
//   filtered and counted with one Query. Reads fetch the whole letter back and check its sha256.
//   The payload's key holds the letter's sha256, so a letter written again with other content
//   (a redelivered batch dead-letters its unreadable record again, with a new `deadAt`) never
//   mixes its bytes with the first; the write that replaces a large letter deletes the payload of
//   the one it replaced, and `takeDeadLetter` deletes the payload of the letter it takes.

import { createHash } from 'node:crypto'
import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, type AttributeValue, type QueryCommandInput, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { ConfigError, TroupeError } from '../core/errors.js'
import { decode, encode } from '../core/serialization.js'
import type { DeadLetter, ErrorRecord } from '../supervisor/dead-letter.js'
import type { JournalStore, ReceiptRecord, StoredReceipt, TraceLink } from './index.js'
import { DYNAMODB_MAX_ITEM_BYTES, TableAccess, errorName, itemBytes, sha256, sleep, type DynamoDBStoreOptions } from './dynamodb-table.js'
import { assembleReceipt, byDeadAt, receiptEntryKey } from './memory-journal.js'
import { DynamoDBPayloadStore, type PayloadStore } from './payload-store.js'

/** BatchWriteItem takes at most this many items a call. */
const BATCH_WRITE_MAX_ITEMS = 25
/** BatchWriteItem calls in flight for one put; more would only queue on the client's sockets. */
const BATCH_WRITES_AT_ONCE = 8
/** Backoff between BatchWriteItem rounds that left items unprocessed (throttling). */
const UNPROCESSED_BACKOFF_MS = [25, 50, 100, 200, 400, 800, 1600] as const
const MAX_PARTITION_KEY_BYTES = 2048
const MAX_SORT_KEY_BYTES = 1024
const DEAD_LETTERS_PK = 'deadletters'
const ENTRY_PREFIX = 'e#'
/** How much of the error message the summary of a letter kept in the payload store holds. */
const SUMMARY_ERROR_CHARS = 8_000
/** Letters written to, or read from, the payload store at once. */
const PAYLOADS_AT_ONCE = 4
/** A message id longer than this (URI-encoded) is named by its hash in a payload key, so every store takes the key. */
const READABLE_ID_CHARS = 120
/** The field of a summary letter's body that names where the whole letter is. */
const LETTER_FIELD = '@troupe.deadLetter'

type Item = Record<string, AttributeValue>
type Key = { pk: { S: string }; sk: { S: string } }
interface Write {
  item: Item & Key
  /** How an error names the item: the message id, and the actor when known. */
  label: string
}

export interface DynamoDBJournalOptions extends DynamoDBStoreOptions {
  /**
   * Where a dead letter too large for an item is kept whole. It must keep what is put with
   * `expiresAt: Infinity` until it is deleted (a letter lives until it is taken): an S3 bucket whose
   * lifecycle rule expires the prefix would lose letters, so give such a store a prefix of its own.
   * @default a DynamoDBPayloadStore on the same table
   */
  payloads?: PayloadStore
}

/** Receipts and dead letters in DynamoDB, on the same table as the state and timer stores. */
export class DynamoDBJournalStore implements JournalStore {
  private readonly table: TableAccess
  private readonly payloads: PayloadStore

  constructor(options: DynamoDBJournalOptions) {
    this.table = new TableAccess(options)
    if (options.payloads !== undefined && (typeof options.payloads.put !== 'function' || typeof options.payloads.get !== 'function')) {
      throw new ConfigError('DynamoDBJournalOptions.payloads must be a PayloadStore (put, get): DynamoDBPayloadStore, FolderPayloadStore or your own')
    }
    this.payloads = options.payloads ?? new DynamoDBPayloadStore(options)
  }

  async putReceipts(records: readonly ReceiptRecord[]): Promise<void> {
    // Everything is checked before anything is sent: a batch with one bad entry writes nothing.
    const writes: Write[] = records.map((r) => {
      const item = receiptItem(r)
      const bytes = itemBytes(item)
      if (bytes > DYNAMODB_MAX_ITEM_BYTES) {
        throw new TroupeError(
          'TROUPE_RECEIPT_TOO_LARGE',
          `receipt entry ${r.entry.status} of message ${r.id} (actor ${r.actor}) is ${kb(bytes)} with its reply; DynamoDB items hold 400 KB — reply with less (large results belong in S3, with their key in the reply)`,
        )
      }
      return { item, label: `message ${r.id} (actor ${r.actor})` }
    })
    // One link per message and request, whatever its status (which its receipt holds): a
    // batch may carry several entries of a message, and a BatchWriteItem no key twice.
    const linked = new Map<string, Item & Key>()
    for (const r of records) if (r.trace !== undefined) linked.set(`${r.trace.correlationId}\u0000${r.id}`, traceItem(r))
    for (const item of linked.values()) writes.push({ item, label: 'a trace link' })
    await this.batchWrite(writes, 'receipt entries')
  }

  /** The messages of one request: one Query over its partition (paged). */
  async trace(correlationId: string, now: number): Promise<TraceLink[]> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: tracePk(correlationId) } },
      ConsistentRead: this.table.consistentRead,
    }
    const links: TraceLink[] = []
    for await (const items of this.table.query(input)) {
      for (const item of items) {
        if (Number(item.exp?.N) <= now) continue
        links.push({
          id: item.id?.S ?? '',
          actor: item.actor?.S ?? '',
          key: item.key?.S ?? '',
          correlationId,
          ...(item.parent?.S !== undefined ? { parentId: item.parent.S } : {}),
          sentAt: Number(item.sentAt?.N),
        })
      }
    }
    return links
  }

  async receipt(id: string, now: number): Promise<StoredReceipt | undefined> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
      ExpressionAttributeValues: { ':pk': { S: receiptPk(id) }, ':entry': { S: ENTRY_PREFIX } },
      ConsistentRead: this.table.consistentRead,
    }
    const live: ReceiptRecord[] = []
    for await (const items of this.table.query(input)) {
      for (const item of items) {
        const record = toReceiptRecord(id, item)
        if (record.expiresAt > now) live.push(record)
      }
    }
    return assembleReceipt(id, live)
  }

  async deleteReceipt(id: string): Promise<void> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: receiptPk(id) } },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: this.table.consistentRead,
    }
    const keys: Item[] = []
    for await (const items of this.table.query(input)) keys.push(...items)
    for (let i = 0; i < keys.length; i += BATCH_WRITE_MAX_ITEMS) {
      let pending: WriteRequest[] = keys.slice(i, i + BATCH_WRITE_MAX_ITEMS).map((Key) => ({ DeleteRequest: { Key } }))
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) {
          const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
          if (backoff === undefined) throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${pending.length} receipt entries of message ${id} undeleted after ${round} BatchWriteItem calls`)
          await sleep(backoff)
        }
        const out = await this.table.send((c) => c.send(new BatchWriteItemCommand({ RequestItems: { [this.table.name]: pending } })))
        pending = out.UnprocessedItems?.[this.table.name] ?? []
      }
    }
  }

  /**
   * Letters that fit an item go in BatchWriteItem calls; each larger one is written to the payload
   * store first, then its item with one PutItem (which answers with the item it replaced, so a
   * replaced letter's payload is deleted).
   */
  async putDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    // A call may name a letter twice; the last one wins, as it would one by one.
    const byId = new Map<string, DeadLetter>()
    for (const letter of letters) {
      byId.delete(letter.envelope.id)
      byId.set(letter.envelope.id, letter)
    }
    const fitting: Write[] = []
    const large: LetterText[] = []
    for (const letter of byId.values()) {
      const text = letterText(letter)
      const item = letterItem(letter, text)
      if (itemBytes(item) <= DYNAMODB_MAX_ITEM_BYTES) fitting.push({ item, label: labelOf(letter) })
      else large.push(text)
    }
    await Promise.all([this.batchWrite(fitting, 'dead letters'), eachAtOnce(large, PAYLOADS_AT_ONCE, (text) => this.putLarge(text))])
  }

  async deadLetters(type?: string): Promise<DeadLetter[]> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: DEAD_LETTERS_PK }, ...(type === undefined ? {} : { ':type': { S: type } }) },
      ...(type === undefined ? {} : { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } }),
      ConsistentRead: this.table.consistentRead,
    }
    const items: Item[] = []
    for await (const page of this.table.query(input)) items.push(...page)
    const out = await eachAtOnce(items, PAYLOADS_AT_ONCE, async (item) => {
      try {
        return await this.readLetter(item)
      } catch (error) {
        // A letter whose bytes are gone is still listed, as its summary says it: never hidden.
        if (error instanceof DeadLetterPayloadError) return summaryLetter(item, error)
        throw error
      }
    })
    return out.sort(byDeadAt)
  }

  /**
   * One DeleteItem that answers with the item; a letter kept in the payload store is read back
   * whole, then its payload deleted. When it cannot be read whole, the item is put back (unless a
   * new letter of the same id came meanwhile) and the take fails, naming why: a replay never
   * sends a letter's summary in place of its message.
   */
  async takeDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const out = await this.table.send((c) =>
      c.send(new DeleteItemCommand({ TableName: this.table.name, Key: letterKey(id), ReturnValues: 'ALL_OLD' })),
    )
    const item = out.Attributes
    if (!item) return undefined
    let letter: DeadLetter
    try {
      letter = await this.readLetter(item)
    } catch (error) {
      await this.putBack(item)
      throw error
    }
    const ref = referenceOf(item)
    // The letter is in hand; bytes left behind by a failed delete cost storage, never a letter.
    if (ref) await this.forget(ref.key).catch(() => undefined)
    return letter
  }

  /** Writes a letter's whole text to the payload store, then its item; deletes the payload of the item it replaced. */
  private async putLarge(text: LetterText): Promise<void> {
    const data = Buffer.from(text.text, 'utf8')
    const digest = createHash('sha256').update(data).digest()
    const ref: LetterReference = { key: payloadKey(text.letter.envelope.id, digest), bytes: data.byteLength, sha256: digest.toString('base64') }
    await this.payloads.put(ref.key, data, Infinity)
    const item = summaryItem(text, ref)
    if (itemBytes(item) > DYNAMODB_MAX_ITEM_BYTES) {
      // Only the envelope's ids and key are in it, and the runtime bounds those far below this.
      throw new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `dead letter of ${labelOf(text.letter)} is over DynamoDB's 400 KB even as a summary`)
    }
    const out = await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ReturnValues: 'ALL_OLD' })))
    const replaced = out.Attributes && referenceOf(out.Attributes)
    if (replaced && replaced.key !== ref.key) await this.forget(replaced.key).catch(() => undefined)
  }

  /** The letter of an item: from the item itself, or whole from the payload store, checked against its sha256. */
  private async readLetter(item: Item): Promise<DeadLetter> {
    const ref = referenceOf(item)
    if (!ref) return toLetter(item.letter?.S ?? '', item)
    const data = await this.payloads.get(ref.key)
    if (data === undefined) throw new DeadLetterPayloadError(item, ref, 'nothing is kept under it')
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new DeadLetterPayloadError(item, ref, 'its bytes do not match their sha256')
    return toLetter(Buffer.from(data).toString('utf8'), item)
  }

  private async putBack(item: Item): Promise<void> {
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })))
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error // a new letter of this id came meanwhile: it stays
    }
  }

  private async forget(key: string): Promise<void> {
    await this.payloads.delete?.(key)
  }

  /**
   * Puts items with BatchWriteItem, 25 a call, a few calls at once; items DynamoDB leaves
   * unprocessed are sent again with backoff, then reported by name.
   */
  private async batchWrite(writes: readonly Write[], what: string): Promise<void> {
    // BatchWriteItem refuses a call that names one key twice; the last write of a key wins, as it would one by one.
    const byKey = new Map<string, Write>()
    for (const w of writes) byKey.set(keyId(w.item), w)
    const unique = [...byKey.values()]
    const chunks: Write[][] = []
    for (let i = 0; i < unique.length; i += BATCH_WRITE_MAX_ITEMS) chunks.push(unique.slice(i, i + BATCH_WRITE_MAX_ITEMS))
    let next = 0
    const worker = async () => {
      while (next < chunks.length) await this.writeChunk(chunks[next++]!, what)
    }
    await Promise.all(Array.from({ length: Math.min(BATCH_WRITES_AT_ONCE, chunks.length) }, worker))
  }

  private async writeChunk(chunk: readonly Write[], what: string): Promise<void> {
    let pending: WriteRequest[] = chunk.map((w) => ({ PutRequest: { Item: w.item } }))
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
        if (backoff === undefined) {
          const labels = new Map(chunk.map((w) => [keyId(w.item), w.label]))
          const names = pending.map((p) => labels.get(keyId(p.PutRequest?.Item ?? {})) ?? '(unknown)')
          const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
          throw new TroupeError(
            'TROUPE_STORE_UNAVAILABLE',
            `DynamoDB left ${pending.length} ${what} unprocessed after ${round} BatchWriteItem calls (table ${this.table.name} is throttled): ${shown}`,
          )
        }
        await sleep(backoff)
      }
      const out = await this.table.send((c) => c.send(new BatchWriteItemCommand({ RequestItems: { [this.table.name]: pending } })))
      pending = out.UnprocessedItems?.[this.table.name] ?? []
    }
  }
}

// ---------------------------------------------------------------- receipts

function receiptPk(id: string): string {
  const readable = `receipt#${id}`
  return Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `receiptx#${sha256(id).toString('hex')}`
}

function receiptItem(r: ReceiptRecord): Item & Key {
  const item: Item & Key = {
    pk: { S: receiptPk(r.id) },
    sk: { S: `${ENTRY_PREFIX}${receiptEntryKey(r)}` },
    actor: { S: r.actor },
    key: { S: r.key },
    status: { S: r.entry.status },
    at: { N: String(r.entry.at) },
    attempt: { N: String(r.entry.attempt) },
    exp: { N: String(r.expiresAt) },
    ttl: { N: String(Math.ceil(r.expiresAt / 1000)) },
  }
  if (r.entry.reason !== undefined) item.reason = { S: r.entry.reason }
  if (r.reply !== undefined) item.reply = { S: r.reply }
  if (r.error !== undefined) item.error = { S: JSON.stringify(r.error) }
  if (r.trace !== undefined) {
    item.cid = { S: r.trace.correlationId }
    item.sent = { N: String(r.trace.sentAt) }
    if (r.trace.parentId !== undefined) item.par = { S: r.trace.parentId }
  }
  return item
}

function toReceiptRecord(id: string, item: Item): ReceiptRecord {
  const record: ReceiptRecord = {
    id,
    actor: item.actor?.S ?? '',
    key: item.key?.S ?? '',
    entry: { status: item.status?.S as ReceiptRecord['entry']['status'], at: Number(item.at?.N), attempt: Number(item.attempt?.N) },
    expiresAt: Number(item.exp?.N),
  }
  if (item.reason?.S !== undefined) record.entry.reason = item.reason.S
  if (item.reply?.S !== undefined) record.reply = item.reply.S
  if (item.error?.S !== undefined) record.error = JSON.parse(item.error.S) as ErrorRecord
  if (item.cid?.S !== undefined) record.trace = { correlationId: item.cid.S, sentAt: Number(item.sent?.N), ...(item.par?.S !== undefined ? { parentId: item.par.S } : {}) }
  return record
}

function tracePk(correlationId: string): string {
  const readable = `trace#${correlationId}`
  return Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `tracex#${sha256(correlationId).toString('hex')}`
}

function traceItem(r: ReceiptRecord): Item & Key {
  const t = r.trace!
  const readable = `m#${r.id}`
  const item: Item & Key = {
    pk: { S: tracePk(t.correlationId) },
    sk: { S: Buffer.byteLength(readable) <= MAX_SORT_KEY_BYTES ? readable : `h#${sha256(r.id).toString('hex')}` },
    id: { S: r.id },
    actor: { S: r.actor },
    key: { S: r.key },
    sentAt: { N: String(t.sentAt) },
    exp: { N: String(r.expiresAt) },
    ttl: { N: String(Math.ceil(r.expiresAt / 1000)) },
  }
  if (t.parentId !== undefined) item.parent = { S: t.parentId }
  return item
}

// ---------------------------------------------------------------- dead letters

function letterKey(id: string): Key {
  const readable = `i#${id}`
  const sk = Buffer.byteLength(readable) <= MAX_SORT_KEY_BYTES ? readable : `h#${sha256(id).toString('hex')}`
  return { pk: { S: DEAD_LETTERS_PK }, sk: { S: sk } }
}

function labelOf(letter: DeadLetter): string {
  return `message ${letter.envelope.id} (actor ${letter.envelope.type})`
}

/** A letter as it is kept: its superjson text (the body's guarded keys escaped). */
interface LetterText {
  letter: DeadLetter
  text: string
  escaped: boolean
  /** Why the body was left out: superjson could not encode it. */
  unencodable?: string
}

/** Where a letter too large for an item is kept whole. */
interface LetterReference {
  key: string
  bytes: number
  sha256: string
}

/** A letter's bytes in the payload store are gone or changed. */
class DeadLetterPayloadError extends TroupeError {
  constructor(
    item: Item,
    readonly ref: LetterReference,
    readonly problem: string,
  ) {
    super('TROUPE_DEAD_LETTER_PAYLOAD', `dead letter of message ${idOf(item)} (actor ${item.type?.S}) is kept whole in the payload store under ${ref.key} (${ref.bytes} bytes), and ${problem}`)
  }
}

/**
 * The whole letter as superjson text. A dead letter must never be lost: it is the only copy of a
 * message nobody handled, so a body superjson cannot encode becomes `{ truncated: true, reason }`
 * (the error message says so) rather than refusing the letter.
 */
function letterText(letter: DeadLetter): LetterText {
  try {
    const escaped = escapeBody(letter.envelope.body)
    return { letter, text: encode({ ...letter, envelope: { ...letter.envelope, body: escaped.value } } satisfies DeadLetter), escaped: escaped.escaped }
  } catch (e) {
    const reason = errorText(e)
    const error = { ...letter.error, message: `${letter.error.message} [troupe: the body could not be encoded (${reason}) and was removed]` }
    try {
      return { letter, text: encode({ ...letter, envelope: { ...letter.envelope, body: { truncated: true, reason } }, error } satisfies DeadLetter), escaped: false, unencodable: reason }
    } catch (e2) {
      throw new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `dead letter of ${labelOf(letter)} could not be encoded: ${errorText(e2)}`, { cause: e2 })
    }
  }
}

/** The item of a letter kept whole in it. */
function letterItem(letter: DeadLetter, text: LetterText): Item & Key {
  const item: Item & Key = {
    ...letterKey(letter.envelope.id),
    type: { S: letter.envelope.type },
    deadAt: { N: String(letter.deadAt) },
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
function summaryItem(text: LetterText, ref: LetterReference): Item & Key {
  const { letter } = text
  const message = letter.error.message.length > SUMMARY_ERROR_CHARS ? `${letter.error.message.slice(0, SUMMARY_ERROR_CHARS)}… (${letter.error.message.length} characters)` : letter.error.message
  const error: ErrorRecord = { name: letter.error.name, message, ...(letter.error.code === undefined ? {} : { code: letter.error.code }) }
  const summary: DeadLetter = { envelope: { ...letter.envelope, body: { [LETTER_FIELD]: ref } }, error, attempts: [], deadAt: letter.deadAt }
  const item: Item & Key = {
    ...letterKey(letter.envelope.id),
    type: { S: letter.envelope.type },
    deadAt: { N: String(letter.deadAt) },
    letter: { S: encode(summary) },
    payload: { M: { key: { S: ref.key }, bytes: { N: String(ref.bytes) }, sha256: { S: ref.sha256 } } },
  }
  if (text.escaped) item.escaped = { BOOL: true }
  if (text.unencodable !== undefined) item.truncated = { BOOL: true }
  return item
}

function referenceOf(item: Item): LetterReference | undefined {
  const m = item.payload?.M
  if (m?.key?.S === undefined || m.sha256?.S === undefined) return undefined
  return { key: m.key.S, bytes: Number(m.bytes?.N), sha256: m.sha256.S }
}

/** `dead/<message id>/<sha256 of the letter>`: the id readable when it is short, its hash when not. */
function payloadKey(id: string, digest: Buffer): string {
  const readable = encodeURIComponent(id).length <= READABLE_ID_CHARS ? id : `h-${sha256(id).toString('hex')}`
  return `dead/${readable}/${digest.toString('base64url')}`
}

function toLetter(text: string, item: Item): DeadLetter {
  const letter = decode<DeadLetter>(text)
  if (item.escaped?.BOOL) letter.envelope.body = renameKeys(letter.envelope.body, unescapeKey)
  return letter
}

/** The summary of a letter whose whole bytes cannot be read, saying so in its error. */
function summaryLetter(item: Item, error: DeadLetterPayloadError): DeadLetter {
  const letter = decode<DeadLetter>(item.letter?.S ?? '')
  letter.error = { ...letter.error, message: `${letter.error.message} [troupe: the whole letter (${error.ref.bytes} bytes) is kept under payload key ${error.ref.key}, and ${error.problem}: shown without its body and attempts]` }
  return letter
}

function idOf(item: Item): string {
  const sk = item.sk?.S ?? ''
  return sk.startsWith('i#') ? sk.slice(2) : sk
}

// ---------------------------------------------------------------- keys superjson refuses

/** Keys superjson refuses, with any `~` already in front of them (those are escaped too, so escaping can be undone). */
const GUARDED_KEY = /^~*(?:__proto__|constructor|prototype)$/
const ESCAPED_KEY = /^~+(?:__proto__|constructor|prototype)$/

const escapeKey = (k: string): string => (GUARDED_KEY.test(k) ? `~${k}` : k)
const unescapeKey = (k: string): string => (ESCAPED_KEY.test(k) ? k.slice(1) : k)

/** The body as superjson will take it: itself, or a copy with its guarded keys escaped. */
function escapeBody(body: unknown): { value: unknown; escaped: boolean } {
  const escaped = hasGuardedKey(body)
  return { value: escaped ? renameKeys(body, escapeKey) : body, escaped }
}

/** The containers superjson walks into: arrays, Maps, Sets and plain objects. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function hasGuardedKey(root: unknown): boolean {
  const seen = new Set<object>()
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null || seen.has(v)) continue
    seen.add(v)
    if (Array.isArray(v)) for (const x of v) stack.push(x)
    else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x)
    else if (v instanceof Set) for (const x of v) stack.push(x)
    else if (isPlain(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (GUARDED_KEY.test(k)) return true
        stack.push(x)
      }
    }
  }
  return false
}

/**
 * A copy of `root` with every plain object's keys passed through `rename`. Keys are defined, not
 * assigned, so `__proto__` stays a key. Shared and circular references stay shared; no recursion,
 * so depth is no limit.
 */
function renameKeys(root: unknown, rename: (key: string) => string): unknown {
  const copies = new Map<object, object>()
  const pending: [object, object][] = []
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v
    const known = copies.get(v)
    if (known) return known
    let out: object
    if (Array.isArray(v)) out = new Array(v.length)
    else if (v instanceof Map) out = new Map()
    else if (v instanceof Set) out = new Set()
    else if (isPlain(v)) out = Object.getPrototypeOf(v) === null ? Object.create(null) : {}
    else return v
    copies.set(v, out)
    pending.push([v, out])
    return out
  }
  const top = copy(root)
  while (pending.length > 0) {
    const [from, to] = pending.pop()!
    if (Array.isArray(from)) for (let i = 0; i < from.length; i++) (to as unknown[])[i] = copy(from[i])
    else if (from instanceof Map) for (const [k, x] of from) (to as Map<unknown, unknown>).set(copy(k), copy(x))
    else if (from instanceof Set) for (const x of from) (to as Set<unknown>).add(copy(x))
    else {
      for (const [k, x] of Object.entries(from)) {
        Object.defineProperty(to, rename(k), { value: copy(x), enumerable: true, writable: true, configurable: true })
      }
    }
  }
  return top
}

// ---------------------------------------------------------------- small helpers

function keyId(item: Item): string {
  return JSON.stringify([item.pk?.S, item.sk?.S])
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** `work` over every item, at most `limit` at once; results in the items' order. */
async function eachAtOnce<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await work(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
