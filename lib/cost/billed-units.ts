// The units AWS bills a request by, beyond the request itself, as far as the request (and the
// size of its answer) shows them: Kinesis PUT payload units, DynamoDB request units. The request
// counter (lib/aws/request-counter.ts) adds them up per API, so a price can be put on what a
// process did without asking AWS for its bill.
//
// What a request shows and what it does not:
// - Kinesis: every record's bytes are in the request: exact (a record the stream refuses is
//   counted too).
// - DynamoDB puts: the item is in the request: exact, unless the item it replaces was larger
//   (DynamoDB bills the larger of the two). Troupe's state commits replace an item of about the
//   same size.
// - DynamoDB updates and deletes: the item's size is not in the request. An update that returns
//   the new item (troupe's leases and checkpoints do) is sized from the answer; otherwise one
//   unit, the least DynamoDB bills: a larger item costs more than counted.
// - DynamoDB reads: sized from the answer's bytes (its JSON is a little larger than the items,
//   so this errs high), at least one unit per key asked for (a missing item costs a unit too).
// - Troupe's timers live in the `byDue` local index as well (projection ALL), so a timer's put
//   and delete are billed twice: an item with `due`, a key in a `timers#` partition, or the record
//   of a cancel there (which may replace a timer: counted high).
import { itemBytes } from './item-size.js'

/** Kinesis bills a PUT payload unit per started 25 KB of a record. */
export const PUT_PAYLOAD_UNIT_BYTES = 25 * 1024
/** A DynamoDB write request unit writes up to 1 KB. */
export const WRITE_UNIT_BYTES = 1024
/** A strongly consistent read request unit reads up to 4 KB; an eventually consistent read costs half. */
export const READ_UNIT_BYTES = 4 * 1024

/** What kind of unit an API's requests are billed in; `undefined` for an API billed per request or not at all. */
export function unitKind(api: string): 'put-payload' | 'write' | 'read' | undefined {
  if (api === 'Kinesis.PutRecords' || api === 'Kinesis.PutRecord') return 'put-payload'
  if (/^DynamoDB\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)$/.test(api)) return 'write'
  if (/^DynamoDB\.(GetItem|BatchGetItem|Query|Scan|TransactGetItems)$/.test(api)) return 'read'
  return undefined
}

type Input = Record<string, unknown>

/**
 * The billed units of one request to `api` with `input` (the command's input) whose answer was
 * `responseBytes` long. 0 for an API that is not billed in units.
 *
 * @example
 * billedUnits('Kinesis.PutRecords', { Records: [{ Data: new Uint8Array(30_000), PartitionKey: 'k' }] }, 0) // 2
 */
export function billedUnits(api: string, input: unknown, responseBytes: number): number {
  const kind = unitKind(api)
  if (kind === undefined || input === null || typeof input !== 'object') return 0
  const i = input as Input
  if (kind === 'put-payload') return (api === 'Kinesis.PutRecord' ? [i] : asArray(i.Records)).reduce<number>((n, r) => n + putPayloadUnits(r), 0)
  if (kind === 'write') return writeUnits(api, i, responseBytes)
  return readUnits(api, i, responseBytes)
}

function putPayloadUnits(record: unknown): number {
  const r = (record ?? {}) as Input
  const data = r.Data instanceof Uint8Array ? r.Data.byteLength : typeof r.Data === 'string' ? Buffer.byteLength(r.Data) : 0
  const key = typeof r.PartitionKey === 'string' ? Buffer.byteLength(r.PartitionKey) : 0
  return Math.max(1, Math.ceil((data + key) / PUT_PAYLOAD_UNIT_BYTES))
}

function writeUnits(api: string, i: Input, responseBytes: number): number {
  switch (api) {
    case 'DynamoDB.PutItem':
      return putUnits(i.Item)
    case 'DynamoDB.UpdateItem':
      // ReturnValues ALL_NEW: the answer holds the whole new item.
      return i.ReturnValues === 'ALL_NEW' ? Math.max(1, Math.ceil(responseBytes / WRITE_UNIT_BYTES)) : 1
    case 'DynamoDB.DeleteItem':
      return indexed(i.Key) ? 2 : 1
    case 'DynamoDB.BatchWriteItem': {
      let n = 0
      for (const requests of Object.values((i.RequestItems ?? {}) as Record<string, unknown>)) {
        for (const r of asArray(requests)) {
          const w = (r ?? {}) as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }
          n += w.PutRequest ? putUnits(w.PutRequest.Item) : indexed(w.DeleteRequest?.Key) ? 2 : 1
        }
      }
      return n
    }
    default: {
      // TransactWriteItems: twice the units of each write.
      let n = 0
      for (const t of asArray(i.TransactItems)) {
        const w = (t ?? {}) as { Put?: { Item?: unknown } }
        n += 2 * (w.Put ? putUnits(w.Put.Item) : 1)
      }
      return n
    }
  }
}

function putUnits(item: unknown): number {
  if (item === null || typeof item !== 'object') return 1
  const units = Math.max(1, Math.ceil(itemBytes(item as Input) / WRITE_UNIT_BYTES))
  // A cancel's record has no `due`, but takes the place of a timer that may be in the index.
  return 'due' in item || ('cancelled' in item && indexed(item)) ? 2 * units : units
}

/** A key in troupe's timer partitions: the item is in the `byDue` index too. */
function indexed(key: unknown): boolean {
  const pk = (key as { pk?: { S?: unknown } } | undefined)?.pk?.S
  return typeof pk === 'string' && pk.startsWith('timers#')
}

function readUnits(api: string, i: Input, responseBytes: number): number {
  const bySize = Math.ceil(responseBytes / READ_UNIT_BYTES)
  if (api === 'DynamoDB.BatchGetItem') {
    let n = 0
    for (const table of Object.values((i.RequestItems ?? {}) as Record<string, { Keys?: unknown; ConsistentRead?: unknown }>)) {
      n += Math.max(asArray(table?.Keys).length, bySize) * (table?.ConsistentRead === true ? 1 : 0.5)
    }
    return n
  }
  if (api === 'DynamoDB.TransactGetItems') return 2 * Math.max(asArray(i.TransactItems).length, bySize)
  return Math.max(1, bySize) * (i.ConsistentRead === true ? 1 : 0.5)
}

function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : []
}

