// Makes what the AWS mode runs on: the streams and the table. For `troupe dev`, tests and a
// first deployment; a production stack comes from the deploy template instead.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { TroupeError } from '../core/errors.js'
import { createTable } from '../store/dynamodb.js'

export interface ResourceOptions {
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  tableName: string
  streams: readonly string[]
  /** Shards of each new stream (an existing stream keeps its own). @default 1 */
  shards?: number
  /** How long to wait for each to become ACTIVE. @default 60_000 */
  timeoutMs?: number
}

/** Creates the table and streams that do not exist yet and waits until all are ACTIVE. */
export async function ensureResources(options: ResourceOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000
  await createTable(options.dynamodb, options.tableName, { timeoutMs })
  for (const stream of options.streams) await ensureStream(options.kinesis, stream, options.shards ?? 1, timeoutMs)
}

/** Creates a stream unless it exists, and waits until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, stream: string, shards: number, timeoutMs = 60_000): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }))
  } catch (e) {
    if ((e as { name?: string }).name !== 'ResourceInUseException') throw e
  }
  const deadline = Date.now() + timeoutMs
  for (let wait = 10; ; wait = Math.min(wait * 2, 1_000)) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
    const status = out.StreamDescriptionSummary?.StreamStatus
    if (status === 'ACTIVE') return
    if (Date.now() + wait > deadline) throw new TroupeError('TROUPE_NO_STREAM', `Kinesis stream ${stream} is still ${status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
