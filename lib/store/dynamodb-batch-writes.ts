// The journal's BatchWriteItem calls (dynamodb-journal.ts): puts and deletes, 25 items a call;
// items DynamoDB leaves unprocessed (throttling) are sent again with backoff, then reported by
// name, so a throttled table fails a write with what it did not take rather than losing it.
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { TroupeError } from '../core/errors.js'
import type { Item, Key } from './dynamodb-dead-letter-item.js'
import { untilProcessed, type TableAccess } from './dynamodb-table.js'

/** BatchWriteItem takes at most this many items a call. */
const BATCH_WRITE_MAX_ITEMS = 25
/** BatchWriteItem calls in flight for one put; more would only queue on the client's sockets. */
const BATCH_WRITES_AT_ONCE = 8

export interface Write {
  item: Item & Key
  /** How an error names the item: the message id, and the actor when known. */
  label: string
}

/**
 * Puts items with BatchWriteItem, 25 a call, a few calls at once; items DynamoDB leaves
 * unprocessed are sent again with backoff, then reported by name. `what` names the items.
 */
export async function batchPut(table: TableAccess, writes: readonly Write[], what: string): Promise<void> {
  // BatchWriteItem refuses a call that names one key twice; the last write of a key wins, as it would one by one.
  const byKey = new Map<string, Write>()
  for (const w of writes) byKey.set(keyId(w.item), w)
  const unique = [...byKey.values()]
  const chunks: Write[][] = []
  for (let i = 0; i < unique.length; i += BATCH_WRITE_MAX_ITEMS) chunks.push(unique.slice(i, i + BATCH_WRITE_MAX_ITEMS))
  await eachAtOnce(chunks, BATCH_WRITES_AT_ONCE, (chunk, stopped) => putChunk(table, chunk, what, stopped))
}

/** Deletes the items of `keys`, 25 a call, one call at a time. `what` names them in the error. */
export async function batchDelete(table: TableAccess, keys: readonly Item[], what: string): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_WRITE_MAX_ITEMS) {
    await untilProcessed(
      keys.slice(i, i + BATCH_WRITE_MAX_ITEMS).map((Key): WriteRequest => ({ DeleteRequest: { Key } })),
      (pending) => writeCall(table, pending),
      (left, calls) => new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${left.length} ${what} undeleted after ${calls} BatchWriteItem calls`),
    )
  }
}

/** One call's items, and the unprocessed ones again, unless another call of the put failed meanwhile (`stopped`): the put fails with that. */
function putChunk(table: TableAccess, chunk: readonly Write[], what: string, stopped: () => boolean): Promise<void> {
  return untilProcessed(
    chunk.map((w): WriteRequest => ({ PutRequest: { Item: w.item } })),
    (pending) => writeCall(table, pending),
    (left, calls) => {
      const labels = new Map(chunk.map((w) => [keyId(w.item), w.label]))
      const names = left.map((p) => labels.get(keyId(p.PutRequest?.Item ?? {})) ?? '(unknown)')
      const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
      return new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${left.length} ${what} unprocessed after ${calls} BatchWriteItem calls (table ${table.name} is throttled): ${shown}`)
    },
    stopped,
  )
}

/** One BatchWriteItem call; answers what DynamoDB left unprocessed. */
async function writeCall(table: TableAccess, pending: WriteRequest[]): Promise<WriteRequest[]> {
  const out = await table.send((c) => c.send(new BatchWriteItemCommand({ RequestItems: { [table.name]: pending } })))
  return out.UnprocessedItems?.[table.name] ?? []
}

function keyId(item: Item): string {
  return JSON.stringify([item.pk?.S, item.sk?.S])
}
