// This process as the host of its streams (`consume: true`: a container, `troupe dev`;
// aws-system.ts is the facade): the shard consumer reads every shard and hands each batch to the
// durable host (held-batches.ts). Here too: when all of that is quiet (`idle`), and stopping the
// consumer. Without `consume` a Lambda is the host, fed by its event source mapping.
import type { Logger } from '../core/logger.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { KinesisTransport } from '../transport/kinesis.js'
import type { AwsTimers } from './aws-timers.js'
import { ShardConsumer, type ShardConsumerOptions } from './shard-consumer.js'

/** How often idle() looks again while throttled messages wait for their wake-ups in this process. */
const IDLE_POLL_MS = 10

/**
 * How long this process keeps a lease on a capped type's slots after its batch, for the shard's
 * next batch (type-slots.ts): a read of a shard at its tip waits `pollMs`, and a second more covers
 * the read and the batch's intake. A busy shard's next batch comes at once.
 */
export function keepSlotsMs(pollMs: number): number {
  return pollMs + 1_000
}

export interface StreamHostingOptions {
  consumer: ShardConsumerOptions
  host: DurableHost
  transport: KinesisTransport
  timers: AwsTimers
  logger: Logger
}

export class StreamHosting {
  readonly consumer: ShardConsumer
  /** The consumer's start: a failure is logged here and rejects `idle()`. */
  private readonly started: Promise<void>

  constructor(private readonly o: StreamHostingOptions) {
    this.consumer = new ShardConsumer(o.consumer)
    this.started = this.consumer.start().catch((error: unknown) => {
      o.logger.error('the shard consumer could not start; no turns run in this process', { error: (error as Error).message })
      throw error
    })
    this.started.catch(() => {}) // reported above, and again by idle()
    // Learnt while the consumer starts, so the first tell waits for no DescribeStreamSummary
    // (one that fails is asked again by the first send, which reports it).
    for (const stream of o.consumer.streams) o.transport.recordLimit(stream).catch(() => {})
  }

  /**
   * Resolves once the transport is empty and every shard is read to its end with no batch
   * running, no timer is due now, and no message parked (for a throttle or a retry) still waits (their
   * wake-ups fire in this process when it fires timers). Whatever any of these sends is waited
   * for in turn.
   */
  async idle(): Promise<void> {
    const { transport, timers, host } = this.o
    await this.started
    for (;;) {
      const looked = host.clock.now()
      if (timers.fires) await timers.fireDue()
      await transport.flush()
      const before = transport.stats.recordsSent
      await this.consumer.idle()
      await transport.flush()
      if (transport.stats.recordsSent !== before) continue
      if (host.parkedMessages === 0 || !timers.fires) return
      // What was due when this round fired ran here, or ran on another host: the items say which.
      await host.refreshParked(looked)
      if (host.parkedMessages === 0) return
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS))
    }
  }

  /**
   * Stops the consumer: its batches finish and are checkpointed, and its shards given up. Waits for
   * that up to `timeoutMs`; then gives back the slots of capped types kept for a next batch (a
   * batch still running gives its own back when it ends).
   */
  async stop(timeoutMs: number): Promise<void> {
    await this.started.catch(() => {})
    // Past the timeout the consumer goes on stopping on its own, once its batches end.
    const consumerStopped = this.consumer.stop().catch((error: unknown) => this.o.logger.error('the shard consumer did not stop cleanly', { error: (error as Error).message }))
    const until = Date.now() + timeoutMs
    let timer: NodeJS.Timeout | undefined
    const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([consumerStopped, timeUp])
    // Within what is left of the time: a lease not given back expires on its own.
    const released = this.o.host.releaseSlots().catch((error: unknown) => this.o.logger.warn("kept slots were not given back; they come back when their leases expire", { error: (error as Error).message }))
    if (Date.now() < until) await Promise.race([released, timeUp])
    clearTimeout(timer)
  }
}
