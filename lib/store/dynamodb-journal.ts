// The journal in DynamoDB: receipts (with the replies of `ask`) and dead letters, on the table
// the state and timer stores use (same `pk`/`sk` keys, no index, no transactions, no Scan).
//
// Key design:
//
//   item            pk                      sk                                       attributes
//   receipt entry   receipt#<message id>    e#<attempt, 6 digits>#<rank>#<status>    actor, key, status, at, attempt, reason?,
//                                                                                    reply?, error? (JSON), exp (ms), ttl (s),
//                                                                                    cid?, par?, sent? (its place in a trace)
//   dead letter     deadletters             i#<message id>                           type, deadAt, who, letter (superjson),
//                                                                                    escaped?, truncated?, payload?; a replay's claim,
//                                                                                    claimId, claimUntil, gen, sentAs; once replayed or
//                                                                                    taken only deadAt, who, sentAs?, ended, ttl (s)
//   trace link      trace#<correlation id>  m#<message id>                           id, actor, key, parent?, sentAt, exp, ttl
//
// - Trace links: written beside a receipt entry that carries `trace`, one per message of a request
//   (the same item however often it is written), so `trace(correlationId)` is one Query; the
//   statuses come from the messages' receipts.
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
// - Keys longer than DynamoDB allows (2,048 bytes for `pk`, 1,024 for `sk`) are replaced by a
//   SHA-256 under a different prefix (`receiptx#`, `h#`), so a readable key never collides with
//   a hashed one.
//
// The pieces, each in a file of its own:
//   dynamodb-receipt-item.ts      a receipt entry's item, and the refusal of one over 400 KB
//   dynamodb-trace-link.ts        a trace link's item
//   dynamodb-dead-letters.ts      the dead letters' partition: put, list, take; large letters in the payload store
//   dynamodb-dead-letter-item.ts  a dead letter's item (its text, or a summary and where the whole letter is)
//   dynamodb-batch-writes.ts      BatchWriteItem puts and deletes, unprocessed items retried

import type { QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { ConfigError } from '../core/errors.js'
import type { DeadLetter, HeldDeadLetter, ReplayClaim } from '../core/dead-letter.js'
import type { Origin } from '../core/envelope.js'
import type { JournalStore, ReceiptRecord, StoredReceipt, TraceLink } from './index.js'
import { batchDelete, batchPut, type Write } from './dynamodb-batch-writes.js'
import type { Item, Key } from './dynamodb-dead-letter-item.js'
import { DEFAULT_TOMBSTONE_TTL_MS } from '../core/defaults.js'
import { DynamoDBDeadLetters } from './dynamodb-dead-letters.js'
import { LetterBytes } from './dynamodb-letter-bytes.js'
import { LetterHolds } from './dynamodb-letter-holds.js'
import { ENTRY_PREFIX, receiptPk, receiptWrite, toReceiptRecord } from './dynamodb-receipt-item.js'
import { TableAccess, type DynamoDBStoreOptions } from './dynamodb-table.js'
import { toTraceLink, traceItem, tracePk } from './dynamodb-trace-link.js'
import { assembleReceipt, receiptEntryKey } from './receipt-records.js'
import { DynamoDBPayloadStore, type PayloadStore } from './payload-store.js'

export interface DynamoDBJournalOptions extends DynamoDBStoreOptions {
  /**
   * Where a dead letter too large for an item is kept whole. It must keep what is put with
   * `expiresAt: Infinity` until it is deleted (a letter lives until it is taken): an S3 bucket whose
   * lifecycle rule expires the prefix would lose letters, so give such a store a prefix of its own.
   * @default a DynamoDBPayloadStore on the same table
   */
  payloads?: PayloadStore
  /**
   * How long the death of a dead letter replayed or taken is kept, so that a copy of its write (an
   * outbox sent again after a crash, a redelivered batch) does not bring it back; keep it above the
   * stream's retention, as the host's `tombstoneTtlMs`. @default 8 days
   */
  tombstoneTtlMs?: number
}

/** Receipts and dead letters in DynamoDB, on the same table as the state and timer stores. */
export class DynamoDBJournalStore implements JournalStore {
  private readonly table: TableAccess
  private readonly letters: DynamoDBDeadLetters
  private readonly holds: LetterHolds

  constructor(options: DynamoDBJournalOptions) {
    this.table = new TableAccess(options)
    if (options.payloads !== undefined && (typeof options.payloads.put !== 'function' || typeof options.payloads.get !== 'function')) {
      throw new ConfigError('DynamoDBJournalOptions.payloads must be a PayloadStore (put, get): DynamoDBPayloadStore, FolderPayloadStore or your own')
    }
    const bytes = new LetterBytes(options.payloads ?? new DynamoDBPayloadStore(options))
    const tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS
    this.holds = new LetterHolds(this.table, bytes, tombstoneTtlMs)
    this.letters = new DynamoDBDeadLetters(this.table, bytes, this.holds, tombstoneTtlMs)
  }

  async putReceipts(records: readonly ReceiptRecord[]): Promise<void> {
    // Everything is checked before anything is sent: a batch with one bad entry writes nothing.
    const writes: Write[] = records.map(receiptWrite)
    // One link per message and request, whatever its status (which its receipt holds): a
    // batch may carry several entries of a message, and a BatchWriteItem no key twice.
    const linked = new Map<string, Item & Key>()
    for (const r of records) if (r.trace !== undefined) linked.set(`${r.trace.correlationId}\u0000${r.id}`, traceItem(r))
    for (const item of linked.values()) writes.push({ item, label: 'a trace link' })
    await batchPut(this.table, writes, 'receipt entries')
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
        links.push(toTraceLink(correlationId, item))
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

  async deleteReceipt(id: string, except?: ReceiptRecord): Promise<void> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: receiptPk(id) } },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: this.table.consistentRead,
    }
    const kept = except === undefined ? undefined : `${ENTRY_PREFIX}${receiptEntryKey(except)}`
    const keys: Item[] = []
    for await (const items of this.table.query(input)) for (const item of items) if (item.sk?.S !== kept) keys.push(item)
    await batchDelete(this.table, keys, `receipt entries of message ${id}`)
  }

  putDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    return this.letters.put(letters)
  }

  deadLetters(type?: string): Promise<DeadLetter[]> {
    return this.letters.list(type)
  }

  claimDeadLetter(id: string, claim: ReplayClaim, now: number): Promise<HeldDeadLetter | undefined> {
    return this.holds.claim(id, claim, now)
  }

  markDeadLetterSent(id: string, claimId: string, origin: Origin): Promise<'kept' | 'taken over' | 'gone'> {
    return this.holds.markSent(id, claimId, origin)
  }

  releaseDeadLetter(id: string, claimId: string): Promise<boolean> {
    return this.holds.release(id, claimId)
  }

  dropClaimedDeadLetter(id: string, claimId: string): Promise<void> {
    return this.holds.dropClaimed(id, claimId)
  }

  /** Fails, naming why, when a letter kept in the payload store cannot be read whole: the letter then stays. */
  takeDeadLetter(id: string): Promise<DeadLetter | undefined> {
    return this.letters.take(id)
  }
}
