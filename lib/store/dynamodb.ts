// The DynamoDB store: actor state and durable timers in one table (single-table design).
//
// Key design (table keys `pk` S + `sk` S, one local secondary index `byDue` on `pk` + `due` S):
//
//   item            pk                               sk                    due (LSI sort key)
//   actor state     state#<type>#<key>               state                 -     (state, v, at, m: host bookkeeping, ttl once deleted)
//   timer           timers#<shard>                   i#<id>                <dueAt, 16 digits>#<sk>
//   shard lease     lease#<stream>#<shardId>         lease                 -     (owner, expiresAt, checkpoint, ended, parents, wanted)
//   receipt entry   receipt#<message id>             e#<attempt, 6 digits>#<rank>#<status>   -   (actor, key, status, at, attempt, reason, reply, error, exp, ttl)
//   dead letter     deadletters                      i#<message id>        -     (type, deadAt, letter: the DeadLetter as superjson)
//
// - State: one item per actor instance, so instances spread over partitions and a turn costs one
//   GetItem and one conditional PutItem (`v` is the optimistic-concurrency version). `sk` is the
//   constant `state` so that items belonging to the same instance (an outbox that spills over,
//   a dedupe set) can later sit beside it under the same `pk`. In `<type>`, `%` and `#` are
//   escaped (%25, %23) so `a#b`/`c` and `a`/`b#c` never share a key; `<key>` is the last part
//   and kept as is. The state is the superjson text the runtime gives, never re-encoded.
// - Timers: spread by a hash of their id over a fixed, small set of partitions (`timerShards`,
//   default 8). `get`, `put` (replace) and `delete` address one item by `pk` + `sk` computed from
//   the id alone: one request each, and a replaced timer moves in the index atomically, since
//   DynamoDB maintains a local index in the same write. `due(now, limit)` and `next()` are one
//   Query per shard on `byDue` (sorted by due time, `due <= now`, `Limit`), merged here; no Scan,
//   and a tick that finds nothing due costs `timerShards` small reads.
//   Why a local index and not a global one: an LSI can be read with ConsistentRead, so a timer
//   put a moment ago is due at once and a deleted one never fires from a stale index, as with
//   the memory store. The price: LSIs are declared when the table is created, and each shard's
//   items (one `pk`) are capped at 10 GB (some ten million timers per shard) and share one
//   partition's throughput (1,000 WCU/s; a timer write costs 2 WCU with the index). Why not
//   buckets by due minute: `next()` and a late `due()` would have to walk buckets back to the
//   oldest one, and a replaced timer would move between buckets in two unrelated writes.
//   `timerShards` must stay the same for every reader and writer of a table.
// - Keys longer than DynamoDB allows (2,048 bytes for `pk`, 1,024 for the index key) are
//   replaced by a SHA-256 under a different prefix (`statex#`, `h#`), so keys of any length work
//   and a readable key can never collide with a hashed one. A timer keeps its real id in `id`.
// - Shard leases (dynamodb-leases.ts): one item per Kinesis shard a long-running host reads,
//   changed only by conditional UpdateItems (`owner = me`), holding its checkpoint too.
// - Receipts and dead letters (dynamodb-journal.ts): a partition per message whose entries are
//   keyed by attempt and status, so a rewrite overwrites itself and one Query reads the history;
//   `ttl` (epoch seconds) is for DynamoDB TTL. Dead letters share one partition, keyed by message
//   id; one over 400 KB is kept without its body rather than refused. Long ids: `receiptx#`, `h#`.
// - Items are checked against DynamoDB's 400 KB before they are sent ({@link ItemTooLargeError}).
// - Every read of a whole set pages through `LastEvaluatedKey`. The one Scan is `scan()`, for
//   inspection (listing a type's instances page by page); no runtime path scans.
// - No transactions (dynalite has none, and one conditional write per instance is the design).

import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb'
import { ConfigError, ItemTooLargeError, StoreConflictError, TroupeError } from '../core/errors.js'
import type { StateStore, StoredInstance, TimerRecord, TimerStore } from './index.js'
import { DYNAMODB_MAX_ITEM_BYTES, TableAccess, errorName, isTooLarge, itemBytes, sha256, sleep, type DynamoDBStoreOptions } from './dynamodb-table.js'

export { DYNAMODB_MAX_ITEM_BYTES, type DynamoDBStoreOptions } from './dynamodb-table.js'

/** BatchGetItem takes at most this many keys a call. */
const BATCH_GET_MAX_KEYS = 100
const MAX_PARTITION_KEY_BYTES = 2048
const MAX_SORT_KEY_BYTES = 1024
/** Epoch milliseconds are written with this many digits so they sort as strings. */
const DUE_DIGITS = 16
/** The largest time that still fits the digits and a double exactly. */
const MAX_DUE_AT = Number.MAX_SAFE_INTEGER
const DUE_INDEX = 'byDue'
const STATE_SK = 'state'
/** Backoff between BatchGetItem rounds that left keys unprocessed. */
const UNPROCESSED_BACKOFF_MS = [25, 50, 100, 200, 400, 800, 1600] as const



/** Actor state in DynamoDB: one item per instance, written with a conditional PutItem on its version. */
export class DynamoDBStateStore implements StateStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async get(type: string, key: string): Promise<StoredInstance | undefined> {
    const out = await this.table.send((c) =>
      c.send(new GetItemCommand({ TableName: this.table.name, Key: stateKey(type, key), ConsistentRead: this.table.consistentRead })),
    )
    return out.Item && toInstance(out.Item)
  }

  /**
   * Loads many instances in as few requests as DynamoDB allows (BatchGetItem, 100 keys a call,
   * unprocessed keys retried with backoff). Answers in the order asked, `undefined` where none.
   */
  async getMany(refs: readonly { type: string; key: string }[]): Promise<(StoredInstance | undefined)[]> {
    const byPk = new Map<string, Record<string, AttributeValue>>()
    for (const r of refs) {
      const k = stateKey(r.type, r.key)
      byPk.set(k.pk.S, k)
    }
    const found = new Map<string, StoredInstance>()
    const keys = [...byPk.values()]
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) {
      let pending: Record<string, AttributeValue>[] = keys.slice(i, i + BATCH_GET_MAX_KEYS)
      for (let round = 0; pending.length; round++) {
        if (round > 0) {
          const backoff = UNPROCESSED_BACKOFF_MS[round - 1]
          if (backoff === undefined) {
            throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `DynamoDB left ${pending.length} keys unprocessed after ${round} BatchGetItem calls`)
          }
          await sleep(backoff)
        }
        const out = await this.table.send((c) =>
          c.send(new BatchGetItemCommand({
            RequestItems: { [this.table.name]: { Keys: pending, ConsistentRead: this.table.consistentRead } },
          })),
        )
        for (const item of out.Responses?.[this.table.name] ?? []) found.set(item.pk!.S!, toInstance(item))
        pending = out.UnprocessedKeys?.[this.table.name]?.Keys ?? []
      }
    }
    return refs.map((r) => found.get(stateKey(r.type, r.key).pk.S))
  }

  async put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...stateKey(type, key),
      // The names again, readable, for listing a type's instances (a hashed pk hides them).
      t: { S: type },
      k: { S: key },
      state: { S: value.state },
      v: { N: String(value.version) },
      at: { N: String(value.updatedAt) },
    }
    if (value.meta !== undefined) item.m = { S: value.meta }
    if (value.expiresAt !== undefined) item.ttl = { N: String(Math.ceil(value.expiresAt / 1000)) }
    const bytes = itemBytes(item)
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw new ItemTooLargeError('state', describe(type, key), bytes)
    const condition =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
          }
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...condition })))
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') throw new StoreConflictError(`${type}#${key}`, expectedVersion)
      if (isTooLarge(e)) throw new ItemTooLargeError('state', describe(type, key), bytes)
      throw e
    }
  }

  async delete(type: string, key: string): Promise<void> {
    await this.table.send((c) => c.send(new DeleteItemCommand({ TableName: this.table.name, Key: stateKey(type, key) })))
  }

  /**
   * One page of a type's instances, for inspection: a Scan filtered on the type, read until
   * `limit` instances are found or the table ends, never more than one page in memory.
   * `after` is the `next` of the page before; `next` is undefined on the last page.
   */
  async scan(type: string | undefined, options: { limit?: number; after?: string; search?: string } = {}): Promise<StatePage> {
    const limit = Math.max(1, options.limit ?? 50)
    const items: StatePage['items'] = []
    let start = options.after === undefined ? undefined : (JSON.parse(Buffer.from(options.after, 'base64url').toString('utf8')) as Record<string, AttributeValue>)
    do {
      const out = await this.table.send((c) =>
        c.send(new ScanCommand({
          TableName: this.table.name,
          Limit: limit - items.length,
          ConsistentRead: this.table.consistentRead,
          ...scanFilter(type, options.search),
          ...(start ? { ExclusiveStartKey: start } : {}),
        })),
      )
      for (const item of out.Items ?? []) items.push({ type: item.t?.S ?? '', key: item.k?.S ?? '', stored: toInstance(item) })
      start = out.LastEvaluatedKey
    } while (start && items.length < limit)
    return { items, ...(start ? { next: Buffer.from(JSON.stringify(start)).toString('base64url') } : {}) }
  }
}

function scanFilter(type: string | undefined, search: string | undefined): Pick<ScanCommandInput, 'FilterExpression' | 'ExpressionAttributeValues'> {
  const conditions = ['sk = :sk', type === undefined ? 'attribute_exists(t)' : 't = :t']
  const values: Record<string, AttributeValue> = { ':sk': { S: STATE_SK } }
  if (type !== undefined) values[':t'] = { S: type }
  if (search !== undefined && search !== '') {
    conditions.push('contains(k, :s)')
    values[':s'] = { S: search }
  }
  return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values }
}

/** A page of instances read from the table. */
export interface StatePage {
  items: { type: string; key: string; stored: StoredInstance }[]
  /** Pass as `after` for the next page; undefined on the last. */
  next?: string
}

/** Durable timers in DynamoDB, spread over `timerShards` partitions and sorted by due time in an LSI. */
export class DynamoDBTimerStore implements TimerStore {
  private readonly table: TableAccess
  private readonly shards: number

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
    this.shards = options.timerShards ?? 8
    if (!Number.isInteger(this.shards) || this.shards < 1 || this.shards > 1000) {
      throw new ConfigError(`DynamoDBStoreOptions.timerShards must be an integer from 1 to 1000, got ${options.timerShards}`)
    }
  }

  async put(timer: TimerRecord): Promise<void> {
    if (!Number.isFinite(timer.dueAt) || timer.dueAt > MAX_DUE_AT) {
      throw new TroupeError('TROUPE_INVALID_TIMER', `timer ${timer.id} has dueAt ${timer.dueAt}; expected epoch milliseconds`)
    }
    const key = this.timerKey(timer.id)
    const item: Record<string, AttributeValue> = {
      ...key,
      due: { S: `${dueDigits(timer.dueAt)}#${key.sk.S}` },
      id: { S: timer.id },
      target: { S: timer.target },
      body: { S: timer.body },
      dueAt: { N: String(timer.dueAt) },
      cid: { S: timer.correlationId },
      fired: { N: String(timer.fired) },
    }
    if (timer.every !== undefined) item.every = { S: timer.every }
    if (timer.causationId !== undefined) item.cause = { S: timer.causationId }
    if (timer.direct === true) item.direct = { BOOL: true }
    const bytes = itemBytes(item)
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw new ItemTooLargeError('timer', timer.id, bytes)
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item })))
    } catch (e) {
      if (isTooLarge(e)) throw new ItemTooLargeError('timer', timer.id, bytes)
      throw e
    }
  }

  async delete(id: string): Promise<void> {
    await this.table.send((c) => c.send(new DeleteItemCommand({ TableName: this.table.name, Key: this.timerKey(id) })))
  }

  async get(id: string): Promise<TimerRecord | undefined> {
    const out = await this.table.send((c) =>
      c.send(new GetItemCommand({ TableName: this.table.name, Key: this.timerKey(id), ConsistentRead: this.table.consistentRead })),
    )
    return out.Item && toTimer(out.Item)
  }

  async due(now: number, limit: number): Promise<TimerRecord[]> {
    if (!(limit >= 1) || Number.isNaN(now)) return []
    // The index sorts by whole milliseconds; `$` sorts after the `#` that follows the digits.
    const below = `${dueDigits(Math.min(now, MAX_DUE_AT))}$`
    const perShard = await Promise.all(
      this.shardKeys().map(async (pk) => {
        const found: TimerRecord[] = []
        const input: QueryCommandInput = {
          TableName: this.table.name,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'pk = :pk AND #due < :below',
          ExpressionAttributeNames: { '#due': 'due' },
          ExpressionAttributeValues: { ':pk': { S: pk }, ':below': { S: below } },
          ConsistentRead: this.table.consistentRead,
        }
        for await (const items of this.table.query(input, () => (Number.isFinite(limit) ? limit - found.length : undefined))) {
          for (const item of items) {
            const t = toTimer(item)
            if (t.dueAt <= now) found.push(t) // a fraction of a millisecond past `now` is not due yet
          }
          if (found.length >= limit) break
        }
        return found
      }),
    )
    return perShard.flat().sort(byDue).slice(0, limit)
  }

  async next(): Promise<number | undefined> {
    const firsts = await Promise.all(
      this.shardKeys().map(async (pk) => {
        const out = await this.table.send((c) =>
          c.send(new QueryCommand({
            TableName: this.table.name,
            IndexName: DUE_INDEX,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ProjectionExpression: 'dueAt',
            ConsistentRead: this.table.consistentRead,
            Limit: 1,
          })),
        )
        const n = out.Items?.[0]?.dueAt?.N
        return n === undefined ? undefined : Number(n)
      }),
    )
    let next: number | undefined
    for (const d of firsts) if (d !== undefined && (next === undefined || d < next)) next = d
    return next
  }

  /** Every timer, earliest first. Reads them all, page by page: meant for inspection, not for ticks. */
  async list(): Promise<TimerRecord[]> {
    const all: TimerRecord[] = []
    for (const pk of this.shardKeys()) {
      const input: QueryCommandInput = {
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: this.table.consistentRead,
      }
      for await (const items of this.table.query(input)) for (const item of items) all.push(toTimer(item))
    }
    return all.sort(byDue)
  }

  private timerKey(id: string): { pk: { S: string }; sk: { S: string } } {
    const digest = sha256(id)
    const shard = digest.readUInt32BE(0) % this.shards
    // The index key is `<16 digits>#<sk>` and holds 1,024 bytes at most.
    const plain = `i#${id}`
    const sk = Buffer.byteLength(plain) <= MAX_SORT_KEY_BYTES - DUE_DIGITS - 1 ? plain : `h#${digest.toString('hex')}`
    return { pk: { S: `timers#${shard}` }, sk: { S: sk } }
  }

  private shardKeys(): string[] {
    return Array.from({ length: this.shards }, (_, i) => `timers#${i}`)
  }
}

/**
 * Both stores on one table.
 *
 * @example
 * const dynamodb = new DynamoDBClient({ maxAttempts: 3 })
 * await createTable(dynamodb, 'troupe')   // once, or from the deploy template
 * const system = createSystem({ actors, stores: dynamodbStores({ client: dynamodb, tableName: 'troupe' }) })
 */
export function dynamodbStores(options: DynamoDBStoreOptions): { state: DynamoDBStateStore; timers: DynamoDBTimerStore } {
  return { state: new DynamoDBStateStore(options), timers: new DynamoDBTimerStore(options) }
}

/**
 * Lets DynamoDB delete expired receipts and deleted instances' items (the `ttl` attribute, epoch seconds).
 * Readers filter what TTL has not deleted yet, so a table without it (dynalite has no TTL) is
 * only bigger, never wrong.
 */
async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }))
  } catch (e) {
    // Already on (ValidationException), or an emulator without the operation.
    if (!['ValidationException', 'UnknownOperationException', 'UnrecognizedClientException'].includes(errorName(e) ?? '')) throw e
  }
}

/** The table the stores expect: `pk`/`sk` strings, the `byDue` local index, on-demand billing. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'due', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'due', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  }
}

export interface CreateTableOptions {
  /** Succeed when the table exists already (its keys are not checked). @default true */
  ifNotExists?: boolean
  /** How long to wait for the table to become ACTIVE. @default 60_000 */
  timeoutMs?: number
}

/**
 * Creates the table the DynamoDB stores use and waits until it is ACTIVE.
 *
 * @example
 * await createTable(dynamodb, 'troupe')
 * const stores = dynamodbStores({ client: dynamodb, tableName: 'troupe' })
 */
export async function createTable(client: DynamoDBClient, tableName: string, options: CreateTableOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)))
  } catch (e) {
    if (!(errorName(e) === 'ResourceInUseException' && (options.ifNotExists ?? true))) throw e
  }
  const deadline = Date.now() + timeoutMs
  for (let wait = 10; ; wait = Math.min(wait * 2, 1_000)) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (out.Table?.TableStatus === 'ACTIVE') return enableTtl(client, tableName)
    if (Date.now() + wait > deadline) {
      throw new TroupeError('TROUPE_STORE_NO_TABLE', `DynamoDB table ${tableName} is still ${out.Table?.TableStatus} after ${timeoutMs} ms`)
    }
    await sleep(wait)
  }
}

function stateKey(type: string, key: string): { pk: { S: string }; sk: { S: string } } {
  const escapedType = type.replace(/%/g, '%25').replace(/#/g, '%23')
  const readable = `state#${escapedType}#${key}`
  const pk = Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `statex#${sha256(`${escapedType}#${key}`).toString('hex')}`
  return { pk: { S: pk }, sk: { S: STATE_SK } }
}

function toInstance(item: Record<string, AttributeValue>): StoredInstance {
  const instance: StoredInstance = { state: item.state?.S ?? '', version: Number(item.v?.N), updatedAt: Number(item.at?.N) }
  if (item.m?.S !== undefined) instance.meta = item.m.S
  if (item.ttl?.N !== undefined) instance.expiresAt = Number(item.ttl.N) * 1000
  return instance
}

function toTimer(item: Record<string, AttributeValue>): TimerRecord {
  const t: TimerRecord = {
    id: item.id?.S ?? '',
    target: item.target?.S ?? '',
    body: item.body?.S ?? '',
    dueAt: Number(item.dueAt?.N),
    correlationId: item.cid?.S ?? '',
    fired: Number(item.fired?.N ?? 0),
  }
  if (item.every?.S !== undefined) t.every = item.every.S
  if (item.cause?.S !== undefined) t.causationId = item.cause.S
  if (item.direct?.BOOL === true) t.direct = true
  return t
}

/** Zero-padded whole milliseconds, so that due times sort as strings; negative ones sort first. */
function dueDigits(dueAt: number): string {
  return String(Math.max(0, Math.floor(dueAt))).padStart(DUE_DIGITS, '0')
}

/** Earliest first, then by id: the memory store's order. */
function byDue(a: TimerRecord, b: TimerRecord): number {
  return a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}


/** `type#key` for messages, with a very long key cut short. */
function describe(type: string, key: string): string {
  return `${type}#${key.length > 120 ? `${key.slice(0, 120)}… (${key.length} characters)` : key}`
}




