// What a shard consumer's listing sees (shard-consumer.ts is the map): every shard of its streams
// (ListShards) with its lease, and how each stands: ended, blocked behind a parent not yet ended,
// read here, read by another consumer, or free to take. A shard from a reshard is blocked until
// all its listed parents are ended, so a partition key's records come in order across the
// reshard; this relies on ListShards and ParentShardId alone, since kinesalite does not return
// ChildShards. The listing also counts each consumer's shards, for the share (shard-share.ts).
import { ListShardsCommand, type KinesisClient, type ListShardsCommandOutput, type Shard } from '@aws-sdk/client-kinesis'
import type { Logger } from '../core/logger.js'
import { LeaseLostError, type DynamoDBLeaseStore, type Lease } from '../store/dynamodb-leases.js'
import type { ShardReader } from './shard-reader.js'

/** How each listed shard stood at the last listing. */
export type ShardStatus = 'ended' | 'blocked' | 'other' | 'mine' | 'free'

export interface ListedShard {
  stream: string
  shardId: string
  status: ShardStatus
  /** Closed by a reshard: it has an ending sequence number. */
  closed: boolean
}

export interface Listing {
  /** Tick when the listing began. */
  tick: number
  /** Every stream listed and its leases read. */
  complete: boolean
  shards: ListedShard[]
  problems: string[]
}

/** One stream's shards and their leases, as read for a listing. */
export interface StreamView {
  stream: string
  shards: Shard[]
  leases: Map<string, Lease>
}

/** A shard no consumer reads whose parents are ended: this consumer may take it. */
export interface FreeShard {
  stream: string
  shard: Shard
  /** Its parents still listed. */
  parents: string[]
  lease: Lease | undefined
  /** The leases of its stream, its parents' among them. */
  leases: Map<string, Lease>
  /** Its place in the listing, updated by the try to take it. */
  entry: ListedShard
}

/** A shard another consumer reads under a live lease. */
export interface HeldShard {
  stream: string
  shardId: string
  owner: string
  lease: Lease
}

export interface Survey {
  listed: ListedShard[]
  free: FreeShard[]
  held: HeldShard[]
  /** Shards read per consumer seen (this one, holders of live leases, and those asking for a shard). */
  load: Map<string, number>
}

/** Lists every stream's shards and reads their leases; a stream that fails is a problem, and the others are still listed. */
export async function readStreams(kinesis: KinesisClient, leases: DynamoDBLeaseStore, streams: readonly string[], logger: Logger): Promise<{ views: StreamView[]; problems: string[] }> {
  const problems: string[] = []
  const views: StreamView[] = []
  for (const stream of streams) {
    try {
      const shards = await listShards(kinesis, stream)
      const got = await leases.getMany(stream, shards.map((s) => s.ShardId!))
      views.push({ stream, shards, leases: got })
    } catch (e) {
      problems.push(`${stream}: ${errorText(e)}`)
      logger.warn('could not list the shards of a stream or read their leases', { stream, error: e })
    }
  }
  return { views, problems }
}

/**
 * How each shard of `views` stands for consumer `owner`. A reader of this consumer whose lease the
 * listing shows in another's hands is stopped here, at once.
 */
export function survey(views: readonly StreamView[], owner: string, readerOf: (stream: string, shardId: string) => ShardReader | undefined, now: number): Survey {
  const load = new Map<string, number>([[owner, 0]])
  const listed: ListedShard[] = []
  const free: FreeShard[] = []
  const held: HeldShard[] = []
  for (const { stream, shards, leases } of views) {
    const ids = new Set(shards.map((s) => s.ShardId!))
    for (const shard of shards) {
      const shardId = shard.ShardId!
      const lease = leases.get(shardId)
      // A parent no longer listed is past retention: nothing of it is left to read first.
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && ids.has(p))
      const reader = readerOf(stream, shardId)
      const entry: ListedShard = { stream, shardId, status: 'free', closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined }
      listed.push(entry)
      if (lease?.wantedBy !== undefined && wantedByOther(lease, owner, now) && !load.has(lease.wantedBy)) load.set(lease.wantedBy, 0)
      if (lease?.ended) entry.status = 'ended'
      else if (!parents.every((p) => leases.get(p)?.ended)) entry.status = 'blocked'
      else if (reader && !reader.stopping) {
        if (lease && lease.owner !== owner) {
          reader.lose(new LeaseLostError(stream, shardId, owner, lease.owner, 'listing'))
          entry.status = 'other'
        } else {
          entry.status = 'mine'
          load.set(owner, load.get(owner)! + 1)
        }
      } else if (reader) entry.status = 'mine' // handing over or stopping: not free until it released
      else if (live(lease, now) && lease.owner !== owner) {
        entry.status = 'other'
        load.set(lease.owner!, (load.get(lease.owner!) ?? 0) + 1)
        held.push({ stream, shardId, owner: lease.owner!, lease })
      } else free.push({ stream, shard, parents, lease, leases, entry })
    }
  }
  return { listed, free, held, load }
}

/** Someone other than `owner` asked for the shard, and the request still stands. */
export function wantedByOther(lease: Lease | undefined, owner: string, now: number): boolean {
  return lease?.wantedBy !== undefined && lease.wantedBy !== owner && (lease.wantedUntil ?? 0) > now
}

function live(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && lease.owner !== undefined && !lease.ended && lease.expiresAt >= now
}

async function listShards(kinesis: KinesisClient, stream: string): Promise<Shard[]> {
  const shards: Shard[] = []
  let token: string | undefined
  do {
    const out: ListShardsCommandOutput = await kinesis.send(new ListShardsCommand(token === undefined ? { StreamName: stream } : { NextToken: token }))
    shards.push(...(out.Shards ?? []))
    token = out.NextToken ?? undefined
  } while (token !== undefined)
  return shards
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)
}
