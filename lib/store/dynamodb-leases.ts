// Shard leases in the store's DynamoDB table: which consumer reads which Kinesis shard, and how
// far it got. A long-running host (a container, `troupe dev` without Lambda) reads shards itself;
// several of them may run at once, so each shard needs exactly one reader and a durable position.
//
// - One item per shard (`lease#<stream>#<shardId>` / `lease`). Every change is one conditional
//   UpdateItem: no transactions (dynalite has none), and a lease is never split over items.
// - Ownership is a name plus an expiry in epoch milliseconds. Anyone may take a lease that is
//   absent or expired; only the owner may renew it, move its checkpoint, end it or release it.
//   The owner's writes are conditional on `owner = me`, so a host that lost its lease (paused,
//   partitioned, or handed over) learns it at its next write instead of overwriting the new
//   owner's progress; that is the LeaseLostError.
// - Expiry compares wall clocks of different hosts: keep `leaseMs` well above their skew.
// - A checkpoint is the sequence number of the last record fully handled; `SHARD_END` once a
//   shard closed by a reshard was read to its end (`ended`), which is what lets its children
//   start. Closed shards skipped without reading (a LATEST start) end without a checkpoint.
// - Hand-over: a consumer with fewer shards than its share asks a busier owner for one by
//   writing `wanted` + `wantedUntil` on the lease; the owner sees it on its next renew, finishes
//   its batch, checkpoints and releases. Nothing is read twice, unlike stealing a live lease.

import {
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb'
import { ConfigError, TroupeError } from '../core/errors.js'
import { TableAccess, errorName, type DynamoDBStoreOptions } from './dynamodb-table.js'

/** The checkpoint of a shard that was read to its end after a reshard. */
export const SHARD_END = 'SHARD_END'

const LEASE_SK = 'lease'

/** One shard's lease as stored. */
export interface Lease {
  stream: string
  shardId: string
  /** Who holds (or last held) it; undefined when never taken. */
  owner: string | undefined
  /** Epoch milliseconds; 0 after a release. Live while `expiresAt >= now`. */
  expiresAt: number
  /** The last sequence number fully handled, or {@link SHARD_END}; undefined: start from the starting position. */
  checkpoint: string | undefined
  /** The shard was closed by a reshard and is done with: its children may start. */
  ended: boolean
  /** ParentShardId and AdjacentParentShardId, as listed when the lease was first taken. */
  parents: string[]
  /** A consumer that asked the owner to hand this shard over, until `wantedUntil`. */
  wantedBy: string | undefined
  wantedUntil: number | undefined
}

/** A lease write by `owner` found another holder: stop working the shard, do not retry. */
export class LeaseLostError extends TroupeError {
  constructor(
    readonly stream: string,
    readonly shardId: string,
    readonly owner: string,
    /** Who holds it now, when known. */
    readonly holder: string | undefined,
    readonly operation: string,
  ) {
    super(
      'TROUPE_LEASE_LOST',
      `${operation} of the lease on ${stream}/${shardId} by ${owner} failed: ` +
        (holder === undefined ? 'the lease does not exist' : holder === owner ? 'it was released or ended' : `it is now held by ${holder}`) +
        '; this consumer must stop reading the shard',
    )
  }
}

/** Shard leases and checkpoints in the troupe table (see the key design in dynamodb.ts). */
export class DynamoDBLeaseStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  /**
   * Takes the lease for `leaseMs` if it is free (absent, expired or released) or already ours.
   * Returns it, checkpoint included, or undefined when another owner holds it live.
   * `parents` are recorded the first time, for inspection.
   */
  async acquire(
    stream: string,
    shardId: string,
    owner: string,
    leaseMs: number,
    now: number = Date.now(),
    parents: readonly string[] = [],
  ): Promise<Lease | undefined> {
    checkOwner(owner)
    if (!(leaseMs > 0)) throw new ConfigError(`lease time must be positive, got ${leaseMs} (acquiring ${stream}/${shardId} for ${owner})`)
    try {
      return await this.update(stream, shardId, {
        // A new owner starts without any request aimed at the old one.
        UpdateExpression:
          'SET #owner = :me, #exp = :exp, #stream = :stream, #shard = :shard, #parents = if_not_exists(#parents, :parents) REMOVE #wanted, #wantedUntil',
        ConditionExpression: 'attribute_not_exists(pk) OR #exp < :now OR #owner = :me',
        ExpressionAttributeNames: {
          '#owner': 'owner',
          '#exp': 'expiresAt',
          '#stream': 'stream',
          '#shard': 'shardId',
          '#parents': 'parents',
          '#wanted': 'wanted',
          '#wantedUntil': 'wantedUntil',
        },
        ExpressionAttributeValues: {
          ':me': { S: owner },
          ':exp': { N: String(now + leaseMs) },
          ':now': { N: String(now) },
          ':stream': { S: stream },
          ':shard': { S: shardId },
          ':parents': { L: parents.map((p) => ({ S: p })) },
        },
      })
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return undefined
      throw e
    }
  }

  /**
   * Extends the lease to `now + leaseMs`. Throws LeaseLostError when `owner` no longer holds it,
   * and when it was released or ended: a renew still in flight must not revive a lease that was
   * just let go (the next consumer would wait a whole lease for nothing).
   */
  async renew(stream: string, shardId: string, owner: string, leaseMs: number, now: number = Date.now(), signal?: AbortSignal): Promise<Lease> {
    return this.ownerUpdate('renew', stream, shardId, owner, {
      UpdateExpression: 'SET #exp = :exp',
      ExpressionAttributeNames: { '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':exp': { N: String(now + leaseMs) }, ':zero': { N: '0' } },
    }, '#exp > :zero', signal)
  }

  /** Records the last sequence number fully handled. Throws LeaseLostError when `owner` no longer holds the lease. */
  async checkpoint(stream: string, shardId: string, owner: string, sequenceNumber: string): Promise<void> {
    if (!/^(0|[1-9]\d{0,128})$/.test(sequenceNumber)) {
      throw new TroupeError('TROUPE_BAD_CHECKPOINT', `checkpoint ${JSON.stringify(sequenceNumber)} on ${stream}/${shardId} by ${owner} is not a Kinesis sequence number`)
    }
    await this.ownerUpdate('checkpoint', stream, shardId, owner, {
      UpdateExpression: 'SET #cp = :cp',
      ExpressionAttributeNames: { '#cp': 'checkpoint' },
      ExpressionAttributeValues: { ':cp': { S: sequenceNumber } },
    })
  }

  /**
   * Marks a closed shard done and releases it, so its children can start. `read: false` for a
   * shard skipped unread (a LATEST start found it closed): its children then start where the
   * starting position says, not at their oldest record. Throws LeaseLostError like `checkpoint`.
   */
  async markEnded(stream: string, shardId: string, owner: string, options: { read?: boolean } = {}): Promise<void> {
    const read = options.read ?? true
    await this.ownerUpdate('markEnded', stream, shardId, owner, {
      UpdateExpression: read ? 'SET #ended = :true, #exp = :zero, #cp = :end' : 'SET #ended = :true, #exp = :zero',
      ExpressionAttributeNames: { '#ended': 'ended', '#exp': 'expiresAt', ...(read ? { '#cp': 'checkpoint' } : {}) },
      ExpressionAttributeValues: { ':true': { BOOL: true }, ':zero': { N: '0' }, ...(read ? { ':end': { S: SHARD_END } } : {}) },
    })
  }

  /**
   * Lets the lease go at once (expiry 0) so another consumer takes over without waiting for it
   * to time out; the checkpoint stays. False when `owner` did not hold it (nothing changed).
   */
  async release(stream: string, shardId: string, owner: string): Promise<boolean> {
    try {
      await this.ownerUpdate('release', stream, shardId, owner, {
        UpdateExpression: 'SET #exp = :zero',
        ExpressionAttributeNames: { '#exp': 'expiresAt' },
        ExpressionAttributeValues: { ':zero': { N: '0' } },
      })
      return true
    } catch (e) {
      if (e instanceof LeaseLostError) return false
      throw e
    }
  }

  /**
   * Asks `holder` to hand the shard over to `requester` (see the file comment). False when the
   * lease is no longer `holder`'s and live, so asking makes no sense.
   */
  async requestHandOver(
    stream: string,
    shardId: string,
    requester: string,
    holder: string,
    untilMs: number,
    now: number = Date.now(),
  ): Promise<boolean> {
    checkOwner(requester)
    try {
      await this.update(stream, shardId, {
        UpdateExpression: 'SET #wanted = :me, #wantedUntil = :until',
        ConditionExpression: '#owner = :holder AND #exp >= :now',
        ExpressionAttributeNames: { '#wanted': 'wanted', '#wantedUntil': 'wantedUntil', '#owner': 'owner', '#exp': 'expiresAt' },
        ExpressionAttributeValues: {
          ':me': { S: requester },
          ':until': { N: String(untilMs) },
          ':holder': { S: holder },
          ':now': { N: String(now) },
        },
      })
      return true
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return false
      throw e
    }
  }

  async get(stream: string, shardId: string): Promise<Lease | undefined> {
    const out = await this.table.send((c) =>
      c.send(new GetItemCommand({ TableName: this.table.name, Key: leaseKey(stream, shardId), ConsistentRead: this.table.consistentRead })),
    )
    return out.Item && toLease(out.Item, stream, shardId)
  }

  /** The leases of many shards of one stream, 100 a request; shards without a lease are absent from the map. */
  async getMany(stream: string, shardIds: readonly string[]): Promise<Map<string, Lease>> {
    const found = new Map<string, Lease>()
    const keys = [...new Set(shardIds)].map((id) => leaseKey(stream, id))
    for (const item of await this.table.batchGet(keys, `lease keys of stream ${stream}`)) {
      const shardId = item.shardId?.S ?? item.pk!.S!.slice(`lease#${stream}#`.length)
      found.set(shardId, toLease(item, stream, shardId))
    }
    return found
  }

  /** An update only `owner` may make; a failed condition becomes a LeaseLostError naming the holder. */
  private async ownerUpdate(
    operation: string,
    stream: string,
    shardId: string,
    owner: string,
    input: Pick<UpdateItemCommandInput, 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
    alsoRequire?: string,
    signal?: AbortSignal,
  ): Promise<Lease> {
    try {
      return await this.update(stream, shardId, {
        ...input,
        ConditionExpression: alsoRequire === undefined ? '#owner = :owner' : `#owner = :owner AND ${alsoRequire}`,
        ExpressionAttributeNames: { ...input.ExpressionAttributeNames, '#owner': 'owner' },
        ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':owner': { S: owner } },
      }, signal)
    } catch (e) {
      if (errorName(e) !== 'ConditionalCheckFailedException') throw e
      // dynalite drops ReturnValuesOnConditionCheckFailure, so the holder costs one read; this is rare.
      const now = await this.get(stream, shardId).catch(() => undefined)
      throw new LeaseLostError(stream, shardId, owner, now?.owner, operation)
    }
  }

  private async update(
    stream: string,
    shardId: string,
    input: Pick<UpdateItemCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
    signal?: AbortSignal,
  ): Promise<Lease> {
    const command = new UpdateItemCommand({ TableName: this.table.name, Key: leaseKey(stream, shardId), ReturnValues: 'ALL_NEW', ...input })
    // Options only with a signal: a send given options skips (and drops) a client's cached middleware.
    const out = await this.table.send((c) => (signal === undefined ? c.send(command) : c.send(command, { abortSignal: signal })))
    return toLease(out.Attributes ?? {}, stream, shardId)
  }
}

function leaseKey(stream: string, shardId: string): { pk: { S: string }; sk: { S: string } } {
  return { pk: { S: `lease#${stream}#${shardId}` }, sk: { S: LEASE_SK } }
}

function checkOwner(owner: string): void {
  if (typeof owner !== 'string' || owner.length === 0) throw new ConfigError(`a lease owner must be a non-empty string, got ${JSON.stringify(owner)}`)
}

function toLease(item: Record<string, AttributeValue>, stream: string, shardId: string): Lease {
  return {
    stream,
    shardId,
    owner: item.owner?.S,
    expiresAt: Number(item.expiresAt?.N ?? 0),
    checkpoint: item.checkpoint?.S,
    ended: item.ended?.BOOL === true,
    parents: (item.parents?.L ?? []).flatMap((p) => (p.S === undefined ? [] : [p.S])),
    wantedBy: item.wanted?.S,
    wantedUntil: item.wantedUntil?.N === undefined ? undefined : Number(item.wantedUntil.N),
  }
}
