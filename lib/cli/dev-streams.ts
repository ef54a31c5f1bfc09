// The streams of a `troupe dev` run once they exist: how many shards each has, and the shard
// leases a troupe dev that did not stop cleanly left in the table.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DescribeStreamSummaryCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { DynamoDBLeaseStore } from '../store/dynamodb-leases.js'

export async function describeStreams(kinesis: KinesisClient, streams: readonly string[]): Promise<{ name: string; shards: number }[]> {
  return Promise.all(
    streams.map(async (name) => {
      const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
      return { name, shards: out.StreamDescriptionSummary?.OpenShardCount ?? 0 }
    }),
  )
}

/**
 * The emulators just started in this process, so no one else can hold a lease in their table:
 * a live one was left by a troupe dev that did not stop (a forced exit, a crash). Releasing it
 * (checkpoint kept) spares the wait for it to expire (30 s) before its shard is read again.
 */
export async function releaseLeftLeases(kinesis: KinesisClient, dynamodb: DynamoDBClient, tableName: string, streams: readonly string[]): Promise<number> {
  const leases = new DynamoDBLeaseStore({ client: dynamodb, tableName })
  const now = Date.now()
  let released = 0
  for (const stream of streams) {
    const shardIds: string[] = []
    let token: string | undefined
    do {
      const out = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }))
      for (const shard of out.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId)
      token = out.NextToken
    } while (token)
    for (const lease of (await leases.getMany(stream, shardIds)).values()) {
      if (lease.owner === undefined || lease.ended || lease.expiresAt < now) continue
      if (await leases.release(stream, lease.shardId, lease.owner)) released++
    }
  }
  return released
}
