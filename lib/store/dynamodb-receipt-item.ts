// A receipt entry as the DynamoDB journal keeps it (dynamodb-journal.ts): one item under
// `receipt#<message id>` / `e#<attempt, 6 digits>#<rank>#<status>` (`receiptEntryKey`, which the
// memory journal shares), so a redelivered batch that writes an entry again overwrites it with
// itself. `exp` (epoch ms) is when a read stops showing it; `ttl` (epoch seconds, rounded up so
// TTL never deletes an entry early) is for the table's TTL. An entry over DynamoDB's 400 KB (a
// large reply) is refused by message id and actor before anything of its batch is sent.
import { TroupeError } from '../core/errors.js'
import type { ErrorRecord } from '../core/dead-letter.js'
import type { ReceiptEntry } from '../core/receipt.js'
import type { Write } from './dynamodb-batch-writes.js'
import type { Item, Key } from './dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, itemBytes, sha256 } from './dynamodb-table.js'
import type { ReceiptRecord } from './index.js'
import { receiptEntryKey } from './receipt-records.js'

/** The sort keys of a receipt's entries begin with this. */
export const ENTRY_PREFIX = 'e#'

/** A message's receipt partition; a message id too long for a key is named by its hash, under a prefix of its own. */
export function receiptPk(id: string): string {
  const readable = `receipt#${id}`
  return Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `receiptx#${sha256(id).toString('hex')}`
}

/** The write of one entry; throws TROUPE_RECEIPT_TOO_LARGE when its item would pass 400 KB. */
export function receiptWrite(r: ReceiptRecord): Write {
  const item = receiptItem(r)
  const bytes = itemBytes(item)
  if (bytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new TroupeError(
      'TROUPE_RECEIPT_TOO_LARGE',
      `receipt entry ${r.entry.status} of message ${r.id} (actor ${r.actor}) is ${kb(bytes)} with its reply; DynamoDB items hold 400 KB — reply with less (large results belong in S3, with their key in the reply)`,
    )
  }
  return { item, label: `message ${r.id} (actor ${r.actor})` }
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
  if (r.earlier !== undefined) item.earlier = { S: JSON.stringify(r.earlier) }
  if (r.trace !== undefined) {
    item.cid = { S: r.trace.correlationId }
    item.sent = { N: String(r.trace.sentAt) }
    if (r.trace.parentId !== undefined) item.par = { S: r.trace.parentId }
  }
  return item
}

/** The entry of an item of message `id`'s receipt. */
export function toReceiptRecord(id: string, item: Item): ReceiptRecord {
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
  if (item.earlier?.S !== undefined) record.earlier = JSON.parse(item.earlier.S) as ReceiptEntry[]
  if (item.cid?.S !== undefined) record.trace = { correlationId: item.cid.S, sentAt: Number(item.sent?.N), ...(item.par?.S !== undefined ? { parentId: item.par.S } : {}) }
  return record
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`
}
