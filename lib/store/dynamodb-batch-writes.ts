// The journal's BatchWriteItem calls (dynamodb-journal.ts): puts and deletes, 25 items a call;
// items DynamoDB leaves unprocessed (throttling) are sent again with backoff, then reported by
// name, so a throttled table fails a write with what it did not take rather than losing it.
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { TroupeError } from '../core/errors.js'
import type { Item, Key } from './dynamodb-dead-letter-item.js'
import { sleep, type TableAccess } from './dynamodb-table.js'

/** BatchWriteItem takes at most this many items a call. */
const BATCH_WRITE_MAX_ITEMS = 25
/** BatchWriteItem calls in flight for one put; more would only queue on the client's sockets. */
const BATCH_WRITES_AT_ONCE = 8
/** Backoff between BatchWriteItem rounds that left items unprocessed (throttling). */
const UNPROCESSED_BACKOFF_MS = [25, 50, 100, 200, 400, 800, 1600] as const

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
    let pending: WriteRequest[] = keys.slice(i, i + BATCH_WRITE_MAX_ITEMS).map((Key) => ({ DeleteRequest: { Key } }))
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
        if (backoff === undefined) throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${pending.length} ${what} undeleted after ${round} BatchWriteItem calls`)
        await sleep(backoff)
      }
      const out = await table.send((c) => c.send(new BatchWriteItemCommand({ RequestItems: { [table.name]: pending } })))
      pending = out.UnprocessedItems?.[table.name] ?? []
    }
  }
}

/** One call's items, and the unprocessed ones again, unless another call of the put failed meanwhile (`stopped`): the put fails with that. */
async function putChunk(table: TableAccess, chunk: readonly Write[], what: string, stopped: () => boolean): Promise<void> {
  let pending: WriteRequest[] = chunk.map((w) => ({ PutRequest: { Item: w.item } }))
  for (let round = 0; pending.length > 0 && !stopped(); round++) {
    if (round > 0) {
      const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
      if (backoff === undefined) {
        const labels = new Map(chunk.map((w) => [keyId(w.item), w.label]))
        const names = pending.map((p) => labels.get(keyId(p.PutRequest?.Item ?? {})) ?? '(unknown)')
        const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
        throw new TroupeError(
          'TROUPE_STORE_UNAVAILABLE',
          `DynamoDB left ${pending.length} ${what} unprocessed after ${round} BatchWriteItem calls (table ${table.name} is throttled): ${shown}`,
        )
      }
      await sleep(backoff)
      if (stopped()) return
    }
    const out = await table.send((c) => c.send(new BatchWriteItemCommand({ RequestItems: { [table.name]: pending } })))
    pending = out.UnprocessedItems?.[table.name] ?? []
  }
}

function keyId(item: Item): string {
  return JSON.stringify([item.pk?.S, item.sk?.S])
}
