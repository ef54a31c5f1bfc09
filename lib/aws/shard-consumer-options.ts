// A shard consumer's options (shard-consumer.ts is the map), checked and with their defaults, as
// the consumer's parts share them.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigError } from '../core/errors.js'
import { createLogger, type Logger } from '../core/logger.js'
import type { DynamoDBLeaseStore } from '../store/dynamodb-leases.js'
import type { ShardHandler } from './shard-batch.js'
import type { StartingPosition } from './shard-iterator.js'

export interface ShardConsumerOptions {
  kinesis: KinesisClient
  /** Leases and checkpoints; every consumer of the same streams must share the table. */
  leases: DynamoDBLeaseStore
  /** Stream names (kinesalite does not take ARNs). */
  streams: string[]
  /** Gets each batch; must be idempotent (see ShardHandler). */
  handler: ShardHandler
  /** This consumer's name in the leases; unique per process. @default `<hostname>#<pid>#<random>` */
  owner?: string
  /** How long a lease lasts without renewal; a dead consumer's shards wait this long. @default 30_000 */
  leaseMs?: number
  /** Wait between reads of a shard with nothing new (never less than 250 ms: shard-read-pace.ts). @default 1000 */
  pollMs?: number
  /** Records per GetRecords and at most per handler call (1–10,000). @default 1000 */
  batchSize?: number
  /** Where to start a shard that has no checkpoint. @default 'TRIM_HORIZON' */
  startingPosition?: StartingPosition
  /**
   * Least time between checkpoint writes of a shard; 0 writes one after every batch. Longer saves
   * writes, at the price of redelivering up to that much after a crash.
   * @default 0
   */
  checkpointEveryMs?: number
  logger?: Logger
}

/** The options checked, every default filled in. */
export interface ConsumerSettings {
  owner: string
  kinesis: KinesisClient
  leases: DynamoDBLeaseStore
  /** Without repeats. */
  streams: string[]
  handler: ShardHandler
  leaseMs: number
  pollMs: number
  batchSize: number
  startingPosition: StartingPosition
  checkpointEveryMs: number
  /** Names the consumer and its owner in every line. */
  logger: Logger
}

/** Checks a consumer's options; throws a ConfigError naming the first that is wrong. */
export function consumerSettings(options: ShardConsumerOptions): ConsumerSettings {
  if (!options?.kinesis) throw new ConfigError('ShardConsumerOptions.kinesis must be a KinesisClient')
  if (!options.leases) throw new ConfigError('ShardConsumerOptions.leases must be a DynamoDBLeaseStore')
  if (typeof options.handler !== 'function') throw new ConfigError('ShardConsumerOptions.handler must be a function')
  if (!Array.isArray(options.streams) || options.streams.length === 0 || !options.streams.every((s) => typeof s === 'string' && /^[a-zA-Z0-9_.-]{1,128}$/.test(s))) {
    throw new ConfigError(`ShardConsumerOptions.streams must be stream names (1-128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(options.streams)}`)
  }
  const owner = options.owner ?? `${hostname()}#${process.pid}#${randomBytes(4).toString('hex')}`
  if (typeof owner !== 'string' || owner.length === 0) throw new ConfigError(`ShardConsumerOptions.owner must be a non-empty string, got ${JSON.stringify(owner)}`)
  const startingPosition = options.startingPosition ?? 'TRIM_HORIZON'
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') {
    throw new ConfigError(`ShardConsumerOptions.startingPosition must be 'TRIM_HORIZON' or 'LATEST', got ${JSON.stringify(startingPosition)}`)
  }
  const leaseMs = int(options.leaseMs, 30_000, 100, 86_400_000, 'leaseMs')
  const pollMs = int(options.pollMs, 1_000, 0, 600_000, 'pollMs')
  const logger = (options.logger ?? createLogger('info')).child({ component: 'shardConsumer', owner })
  return {
    owner,
    kinesis: options.kinesis,
    leases: options.leases,
    streams: [...new Set(options.streams)],
    handler: options.handler,
    leaseMs,
    pollMs,
    batchSize: int(options.batchSize, 1_000, 1, 10_000, 'batchSize'),
    startingPosition,
    checkpointEveryMs: int(options.checkpointEveryMs, 0, 0, 86_400_000, 'checkpointEveryMs'),
    logger,
  }
}

function int(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`ShardConsumerOptions.${name} must be a whole number from ${min} to ${max}, got ${value}`)
  }
  return value
}
