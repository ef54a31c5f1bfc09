// Durable timers in the DynamoDB table (see dynamodb.ts for the whole table), spread by a hash of
// their id over a fixed, small set of partitions (`timerShards`, default 8). `get`, `put` (replace)
// and `delete` address one item by `pk` + `sk` computed from the id alone: one request each, and a
// replaced timer moves in the index atomically, since DynamoDB maintains a local index in the same
// write. `due(now, limit)` and `next()` are one Query per shard on `byDue` (sorted by due time,
// `due <= now`, `Limit`), merged here; no Scan, and a tick that finds nothing due costs
// `timerShards` small reads. `advance` moves a timer on after a firing with a conditional write,
// so that a timer scheduled again or cancelled meanwhile is not undone. A timer a durable turn
// named carries its commit's order (`oo`, `ol`, `ov`, `on`: TimerOrder), and its writes are
// conditional on it; a cancel of such an order, or a firing of a one-shot timer with one, leaves
// an item `cancelled` with that order in place of the timer, which has no `due` (so the index
// leaves it out) and a `ttl` CANCEL_KEPT_MS on.
//
// Why a local index and not a global one: an LSI can be read with ConsistentRead, so a timer put a
// moment ago is due at once and a deleted one never fires from a stale index, as with the memory
// store. The price: LSIs are declared when the table is created, and each shard's items (one `pk`)
// are capped at 10 GB (some ten million timers per shard) and share one partition's throughput
// (1,000 WCU/s; a timer write costs 2 WCU with the index). Why not buckets by due minute: `next()`
// and a late `due()` would have to walk buckets back to the oldest one, and a replaced timer would
// move between buckets in two unrelated writes. `timerShards` must stay the same for every reader
// and writer of a table. A long id's `sk` is a SHA-256 under `h#`; the timer keeps its id in `id`.

import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type PutItemCommandInput, type QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { ConfigError, ItemTooLargeError, TroupeError } from '../core/errors.js'
import { isWellFormed, quoted } from '../core/validate.js'
import { CANCEL_KEPT_MS, wholeOrder } from '../core/schedule.js'
import { DUE_INDEX } from './dynamodb-table-definition.js'
import { DYNAMODB_MAX_ITEM_BYTES, MAX_SORT_KEY_BYTES, TableAccess, errorName, isTooLarge, itemBytes, sha256, type DynamoDBStoreOptions } from './dynamodb-table.js'
import type { TimerOrder, TimerRecord, TimerStore } from './index.js'

/** Epoch milliseconds are written with this many digits so they sort as strings. */
const DUE_DIGITS = 16
/** The largest time that still fits the digits and a double exactly. */
const MAX_DUE_AT = Number.MAX_SAFE_INTEGER

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
    const order = wholeOrder(timer.order)
    if (order === undefined) return this.write(timer, {})
    await this.ordered(() => this.write(timer, orderCondition(order)))
  }

  /**
   * With `order`, the item becomes the cancel's record: no `due`, so the index leaves it out, and
   * a `ttl` for DynamoDB to drop it CANCEL_KEPT_MS on.
   */
  async delete(id: string, given?: TimerOrder): Promise<void> {
    const order = wholeOrder(given)
    if (order === undefined) {
      await this.table.send((c) => c.send(new DeleteItemCommand({ TableName: this.table.name, Key: this.timerKey(id) })))
      return
    }
    await this.ordered(() => this.putCancel(id, order, orderCondition(order)))
  }

  /** The record of a cancel of `order` in timer `id`'s place, on condition `when`. */
  private async putCancel(id: string, order: TimerOrder, when: Condition): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...this.timerKey(id),
      id: { S: id },
      cancelled: { BOOL: true },
      ...orderAttributes(order),
      ttl: { N: String(Math.ceil((Date.now() + CANCEL_KEPT_MS) / 1000)) },
    }
    await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...when })))
  }

  /** Runs an ordered write; one that an item of a later commit refuses is left out. */
  private async ordered(write: () => Promise<unknown>): Promise<void> {
    try {
      await write()
    } catch (e) {
      if (errorName(e) !== 'ConditionalCheckFailedException') throw e
    }
  }

  /**
   * After a firing: the next firing put, or the timer deleted, conditional on the item still being
   * the firing that fired (`sameFiring`), so a timer scheduled again or cancelled meanwhile is left
   * as that left it.
   */
  async advance(fired: TimerRecord, next: TimerRecord | undefined): Promise<boolean> {
    const names: Record<string, string> = { '#due': 'dueAt', '#target': 'target', '#body': 'body', '#cid': 'cid' }
    const values: Record<string, AttributeValue> = {
      ':due': { N: String(fired.dueAt) },
      ':target': { S: fired.target },
      ':body': { S: fired.body },
      ':cid': { S: fired.correlationId },
    }
    const conditions = ['#due = :due', '#target = :target', '#body = :body', '#cid = :cid']
    // Optional attributes: equal when both have one, or absent from the item when the firing has none.
    for (const [attribute, value] of [['every', fired.every], ['cause', fired.causationId], ['set', fired.set]] as const) {
      names[`#${attribute}`] = attribute
      if (value === undefined) conditions.push(`attribute_not_exists(#${attribute})`)
      else {
        conditions.push(`#${attribute} = :${attribute}`)
        values[`:${attribute}`] = { S: value }
      }
    }
    const condition = conditions.join(' AND ')
    const when = { ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }
    const order = wholeOrder(fired.order)
    try {
      if (next !== undefined) await this.write(next, when)
      // A write of the commit that set it, sent again, does not set it again.
      else if (order !== undefined) await this.putCancel(fired.id, order, when)
      else await this.table.send((c) => c.send(new DeleteItemCommand({ TableName: this.table.name, Key: this.timerKey(fired.id), ...when })))
      return true
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return false
      throw e
    }
  }

  private async write(timer: TimerRecord, when: Condition): Promise<void> {
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
    if (timer.set !== undefined) item.set = { S: timer.set }
    if (timer.direct === true) item.direct = { BOOL: true }
    if (timer.trace !== undefined) item.trace = timer.trace.state === undefined ? { S: timer.trace.parent } : { L: [{ S: timer.trace.parent }, { S: timer.trace.state }] }
    const order = wholeOrder(timer.order)
    if (order !== undefined) Object.assign(item, orderAttributes(order))
    const bytes = itemBytes(item)
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw new ItemTooLargeError('timer', timer.id, bytes)
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...when })))
    } catch (e) {
      if (isTooLarge(e)) throw new ItemTooLargeError('timer', timer.id, bytes)
      throw e
    }
  }

  async get(id: string): Promise<TimerRecord | undefined> {
    const out = await this.table.send((c) =>
      c.send(new GetItemCommand({ TableName: this.table.name, Key: this.timerKey(id), ConsistentRead: this.table.consistentRead })),
    )
    return out.Item === undefined || out.Item.cancelled !== undefined ? undefined : toTimer(out.Item)
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
      for await (const items of this.table.query(input)) for (const item of items) if (item.cancelled === undefined) all.push(toTimer(item))
    }
    return all.sort(byDue)
  }

  private timerKey(id: string): { pk: { S: string }; sk: { S: string } } {
    // A cancel by a name with a lone surrogate would meet another name's timer.
    if (!isWellFormed(id)) throw new ConfigError(`timer ${quoted(id)}: a timer's name must be well-formed UTF-16 (no lone surrogate, which DynamoDB cannot keep apart from another name)`)
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
  if (item.set?.S !== undefined) t.set = item.set.S
  if (item.direct?.BOOL === true) t.direct = true
  if (item.trace?.S !== undefined) t.trace = { parent: item.trace.S }
  else if (item.trace?.L?.[0]?.S !== undefined && item.trace.L[1]?.S !== undefined) t.trace = { parent: item.trace.L[0].S, state: item.trace.L[1].S }
  if (item.oo?.S !== undefined && item.ol?.N !== undefined && item.ov?.N !== undefined && item.on?.N !== undefined) t.order = { owner: item.oo.S, life: Number(item.ol.N), v: Number(item.ov.N), n: Number(item.on.N) }
  return t
}

type Condition = Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>

function orderAttributes(order: TimerOrder): Record<string, AttributeValue> {
  return { oo: { S: order.owner }, ol: { N: String(order.life) }, ov: { N: String(order.v) }, on: { N: String(order.n) } }
}

/**
 * The condition of an ordered write: what stands has no whole order (as `toTimer` reads it), or
 * one it supersedes (`supersedes`).
 */
function orderCondition(order: TimerOrder): Condition {
  return {
    ConditionExpression:
      'NOT attribute_type(#oo, :S) OR NOT attribute_type(#ol, :N) OR NOT attribute_type(#ov, :N) OR NOT attribute_type(#on, :N) OR #oo <> :o OR #ol < :l OR (#ol = :l AND (#ov < :v OR (#ov = :v AND #on < :n)))',
    ExpressionAttributeNames: { '#oo': 'oo', '#ol': 'ol', '#ov': 'ov', '#on': 'on' },
    ExpressionAttributeValues: { ':S': { S: 'S' }, ':N': { S: 'N' }, ':o': { S: order.owner }, ':l': { N: String(order.life) }, ':v': { N: String(order.v) }, ':n': { N: String(order.n) } },
  }
}

/** Zero-padded whole milliseconds, so that due times sort as strings; negative ones sort first. */
function dueDigits(dueAt: number): string {
  return String(Math.max(0, Math.floor(dueAt))).padStart(DUE_DIGITS, '0')
}

/** Earliest first, then by id: the memory store's order. */
function byDue(a: TimerRecord, b: TimerRecord): number {
  return a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
