// What a Kinesis transport is made with, and the check of its numbers.
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigError } from '../core/errors.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { Router } from '../routing/router.js'
import type { Ordering } from './partition-queue.js'

export interface KinesisTransportOptions {
  /** The Kinesis client. The transport never destroys it. */
  client: KinesisClient
  /** Stream and partition key per message. */
  router: Router
  /** Envelope ⇄ record. @default the codec with default limits */
  codec?: RecordCodec
  /** Per-key order: `'strict'` never lets a record be overtaken; `'batched'` spends fewer calls on hot keys. @default 'strict' */
  ordering?: Ordering
  /**
   * Send a key's waiting run as one aggregate record (`strict` only). Turn it off while hosts that
   * cannot read aggregates still consume the stream. @default true
   */
  aggregate?: boolean
  /** How long `enqueue` waits for more messages before sending a partial batch. @default 10 */
  lingerMs?: number
  /** Attempts per record, the first included, before it fails. @default 8 */
  maxAttempts?: number
  /** Backoff before the n-th retry: a random delay up to min(maxDelayMs, baseDelayMs × 2^(n−1)). @default 100 */
  baseDelayMs?: number
  /** @default 5000 */
  maxDelayMs?: number
  /** PutRecords calls in flight at once, over all streams. @default 4 */
  maxInFlight?: number
  /** Records per call (1–500). @default 500 */
  maxBatchRecords?: number
  /** Bytes per call, data plus partition keys (up to 5 MiB). @default 5 MiB */
  maxBatchBytes?: number
  /** Random numbers in [0, 1) for the jitter. @default Math.random */
  random?: () => number
  /** Told, once per call, of each shard it put records on: a reader of that shard in this process reads them at once. */
  onPut?: (stream: string, shardId: string) => void
}

/** An option that is a whole number from `min` to `max`, or `fallback` when not given. */
export function int(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`KinesisTransportOptions.${name} must be a whole number from ${min} to ${max}, got ${value}`)
  }
  return value
}
