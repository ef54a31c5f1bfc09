// A trace link as the DynamoDB journal keeps it (dynamodb-journal.ts): one item per message of a
// request, under `trace#<correlation id>` / `m#<message id>`, written beside a receipt entry that
// carries `trace` (the same item however often it is written), so a request's messages are one
// Query. It holds where the message sits in the trace; its status comes from its receipt.
import type { Item, Key } from './dynamodb-dead-letter-item.js'
import { MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, sha256 } from './dynamodb-table.js'
import type { ReceiptRecord, TraceLink } from './index.js'

/** A request's partition; a correlation id too long for a key is named by its hash, under a prefix of its own. */
export function tracePk(correlationId: string): string {
  const readable = `trace#${correlationId}`
  return Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `tracex#${sha256(correlationId).toString('hex')}`
}

/** The link of a receipt entry that carries `trace`. */
export function traceItem(r: ReceiptRecord): Item & Key {
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

/** The link an item of request `correlationId` holds. */
export function toTraceLink(correlationId: string, item: Item): TraceLink {
  return {
    id: item.id?.S ?? '',
    actor: item.actor?.S ?? '',
    key: item.key?.S ?? '',
    correlationId,
    ...(item.parent?.S !== undefined ? { parentId: item.parent.S } : {}),
    sentAt: Number(item.sentAt?.N),
  }
}
