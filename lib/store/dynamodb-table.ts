// The table both DynamoDB stores share: options, access with clear errors, paging, and
// DynamoDB's limits as this project counts them.
import { createHash } from 'node:crypto'
import { BatchGetItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { ConfigError, TroupeError } from '../core/errors.js'

/** DynamoDB's item size limit, attribute names included. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024
/** DynamoDB's longest partition key and sort key, in bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048
export const MAX_SORT_KEY_BYTES = 1024

export interface DynamoDBStoreOptions {
  client: DynamoDBClient
  /** A table made by {@link createTable} (or with {@link tableDefinition}'s keys and index). */
  tableName: string
  /**
   * Partitions the timers are spread over. Every reader and writer of a table must use the same
   * number; `due`/`next` cost one Query per shard.
   * @default 8
   */
  timerShards?: number
  /**
   * Strongly consistent reads (twice the read cost of eventually consistent ones). Leave on: a
   * stale state read only ends in a conflict and a rerun, a stale timer read fires a deleted timer.
   * @default true
   */
  consistentRead?: boolean
}

/** BatchGetItem takes at most this many keys a call. */
const BATCH_GET_MAX_KEYS = 100
/**
 * BatchGetItem calls of one read in flight at once: 1,000 keys are read in three round trips, not
 * ten (a durable batch's turns wait for the read of its states).
 */
const BATCH_GET_IN_FLIGHT = 4
/** Backoff between rounds of a batch call that left keys or items unprocessed (throttling). */
const UNPROCESSED_BACKOFF_MS = [25, 50, 100, 200, 400, 800, 1600] as const

/** The table, the client and how to read: what both stores share. */
export class TableAccess {
  readonly client: DynamoDBClient
  readonly name: string
  readonly consistentRead: boolean

  constructor(options: DynamoDBStoreOptions) {
    if (!options?.client) throw new ConfigError('DynamoDBStoreOptions.client must be a DynamoDBClient')
    if (typeof options.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new ConfigError(
        `DynamoDBStoreOptions.tableName must be 3 to 255 of A-Z a-z 0-9 _ - . (a DynamoDB table name), got ${JSON.stringify(options.tableName)}`,
      )
    }
    this.client = options.client
    this.name = options.tableName
    this.consistentRead = options.consistentRead ?? true
  }

  /** Sends a command, turning a missing table into an error that says how to make it. */
  async send<T>(request: (client: DynamoDBClient) => Promise<T>): Promise<T> {
    return request(this.client).catch((e: unknown) => {
      if (errorName(e) === 'ResourceNotFoundException') {
        throw new TroupeError(
          'TROUPE_STORE_NO_TABLE',
          `DynamoDB table ${this.name} does not exist; create it with createTable(client, '${this.name}') before using the store`,
          { cause: e },
        )
      }
      throw e
    })
  }

  /**
   * The items of `keys`, in as few requests as DynamoDB allows (BatchGetItem, 100 keys a call,
   * BATCH_GET_IN_FLIGHT at once, unprocessed keys retried with backoff), in no particular order;
   * keys without an item are absent. `what` names the keys in the error when DynamoDB leaves some
   * unprocessed past the last backoff. When a call fails, no other starts, and the read rejects
   * once those in flight have ended.
   */
  async batchGet(keys: readonly Record<string, AttributeValue>[], what: string): Promise<Record<string, AttributeValue>[]> {
    const calls: Record<string, AttributeValue>[][] = []
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) calls.push(keys.slice(i, i + BATCH_GET_MAX_KEYS))
    const found: Record<string, AttributeValue>[] = []
    await eachAtOnce(calls, BATCH_GET_IN_FLIGHT, (call, stopped) => this.batchGetCall(call, what, found, stopped))
    return found
  }

  /**
   * One call's keys into `found`, with the keys DynamoDB leaves unprocessed asked again after a
   * backoff, unless another call of the read failed meanwhile (`stopped`).
   */
  private batchGetCall(keys: Record<string, AttributeValue>[], what: string, found: Record<string, AttributeValue>[], stopped: () => boolean): Promise<void> {
    return untilProcessed(
      keys,
      async (pending) => {
        const out = await this.send((c) => c.send(new BatchGetItemCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: this.consistentRead } } })))
        found.push(...(out.Responses?.[this.name] ?? []))
        return out.UnprocessedKeys?.[this.name]?.Keys ?? []
      },
      (left, calls) => new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${left.length} ${what} unprocessed after ${calls} BatchGetItem calls`),
      stopped,
    )
  }

  /**
   * Pages through a Query, one page of items at a time. `remaining` caps the next page's
   * `Limit` (undefined: DynamoDB's 1 MB page); a page may be empty and still not the last.
   */
  async *query(input: QueryCommandInput, remaining?: () => number | undefined): AsyncGenerator<Record<string, AttributeValue>[]> {
    let start: Record<string, AttributeValue> | undefined
    do {
      const limit = remaining?.()
      const out = await this.send((c) =>
        c.send(new QueryCommand({ ...input, ...(limit === undefined ? {} : { Limit: limit }), ...(start ? { ExclusiveStartKey: start } : {}) })),
      )
      yield out.Items ?? []
      start = out.LastEvaluatedKey
    } while (start)
  }
}

/**
 * An item's size as DynamoDB counts it toward 400 KB: attribute names plus values, strings in
 * UTF-8. Numbers are taken at their largest (21 bytes), so the estimate never falls short.
 */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name)
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S)
    else if (value.N !== undefined) bytes += 21
    else bytes += Buffer.byteLength(JSON.stringify(value))
  }
  return bytes
}

export function isTooLarge(e: unknown): boolean {
  return errorName(e) === 'ValidationException' && /item size/i.test(String((e as Error).message))
}

export function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : undefined
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * A batch call's rounds: `call` sends what is pending and answers what DynamoDB left unprocessed,
 * which is sent again after a backoff until nothing is left; past the last backoff, the error of
 * `giveUp` (what is left, the calls made). Sends nothing more once `stopped()` (another call of the
 * same read or write failed, and it fails with that).
 */
export async function untilProcessed<T>(first: T[], call: (pending: T[]) => Promise<T[]>, giveUp: (left: T[], calls: number) => Error, stopped: () => boolean = () => false): Promise<void> {
  let pending = first
  for (let round = 0; pending.length > 0 && !stopped(); round++) {
    if (round > 0) {
      const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
      if (backoff === undefined) throw giveUp(pending, round)
      await sleep(backoff)
      if (stopped()) return
    }
    pending = await call(pending)
  }
}
