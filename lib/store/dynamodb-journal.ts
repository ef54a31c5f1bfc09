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
// - A letter's item (its superjson text, or a summary and where the whole letter is) is made and
//   read in dynamodb-dead-letter-item.ts.
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
import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, type QueryCommandInput, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { ConfigError, TroupeError } from '../core/errors.js'
import type { DeadLetter, ErrorRecord } from '../supervisor/dead-letter.js'
import type { JournalStore, ReceiptRecord, StoredReceipt, TraceLink } from './index.js'
import {
  DEAD_LETTERS_PK,
  DeadLetterPayloadError,
  labelOf,
  letterItem,
  letterKey,
  letterText,
  payloadKey,
  readLetterText,
  referenceOf,
  summaryItem,
  summaryLetter,
  type Item,
  type Key,
  type LetterReference,
  type LetterText,
} from './dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, TableAccess, errorName, itemBytes, sha256, sleep, type DynamoDBStoreOptions } from './dynamodb-table.js'
import { byDeadAt } from './memory-journal.js'
import { assembleReceipt, receiptEntryKey } from './receipt-records.js'
import { DynamoDBPayloadStore, type PayloadStore } from './payload-store.js'

/** BatchWriteItem takes at most this many items a call. */
const BATCH_WRITE_MAX_ITEMS = 25
/** BatchWriteItem calls in flight for one put; more would only queue on the client's sockets. */
const BATCH_WRITES_AT_ONCE = 8
/** Backoff between BatchWriteItem rounds that left items unprocessed (throttling). */
const UNPROCESSED_BACKOFF_MS = [25, 50, 100, 200, 400, 800, 1600] as const
const ENTRY_PREFIX = 'e#'
/** Letters written to, or read from, the payload store at once. */
const PAYLOADS_AT_ONCE = 4
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
    if (!ref) return readLetterText(item.letter?.S ?? '', item)
    const data = await this.payloads.get(ref.key)
    if (data === undefined) throw new DeadLetterPayloadError(item, ref, 'nothing is kept under it')
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new DeadLetterPayloadError(item, ref, 'its bytes do not match their sha256')
    return readLetterText(Buffer.from(data).toString('utf8'), item)
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

// ---------------------------------------------------------------- small helpers

function keyId(item: Item): string {
  return JSON.stringify([item.pk?.S, item.sk?.S])
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`
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
