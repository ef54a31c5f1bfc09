// What an AwsSystem shows of itself (aws-system.ts is the facade): its events, to the listeners
// `on` adds; the instances whose turns ran in this process lately, which `instances()` lists and
// `evict` drops; and the counts `inspect()` gives. The table holds every instance; this keeps
// only the last few per type, most recently committed last. On AWS a message waits in the
// stream, not here: what is queued and running is what the batches this process's host holds
// have not ended (held-batches.ts), and for a type under `policy.concurrency` the slots its live
// leases hold on every host (running-slots.ts); what is parked for a throttle, what its host's
// commits left parked; how far behind its reading of the streams is, what its shard consumer last heard,
// and per type, as the Lambda host's metrics tell it (backlog-gauges.ts), how long the records of
// the batches it took in had waited in the stream and when its turns of the type last ended.
import type { Clock } from '../core/clock.js'
import type { InstanceSnapshot, Listener, SystemSnapshot, TroupeEvent } from '../core/inspection.js'
import { Listeners } from '../core/listeners.js'
import type { Logger } from '../core/logger.js'
import { iteratorAgeMs } from '../metrics/backlog.js'
import { GaugeWindow } from '../metrics/gauge-window.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import { slotLimit } from '../hosts/durable/type-slots.js'
import type { HeldBatches } from './held-batches.js'
import type { RequestCounter } from './request-counter.js'
import type { ShardStats } from './shard-stats.js'

/** Instances remembered for `instances()`, per type. */
const REMEMBERED_INSTANCES = 1_000

export class ProcessView {
  private readonly seen = new Map<string, Map<string, InstanceSnapshot>>()
  private readonly listeners: Listeners
  /** When a turn of each type last ended here (done, filtered, retried or dead), epoch ms. */
  private readonly lastActivity = new Map<string, number>()
  /** Each type's iterator age at the batches taken in here: the most of the last minute, as troupe dev reads the Lambda host's. */
  private readonly ages: GaugeWindow

  constructor(
    private readonly host: DurableHost,
    private readonly batches: HeldBatches,
    private readonly requests: RequestCounter,
    private readonly clock: Clock,
    logger: Logger,
    /** What this process's shard consumer read of each shard (none when a Lambda is the host). */
    private readonly shards: () => readonly ShardStats[] = () => [],
    /** A capped type's slots held by live leases across every host, as last read (running-slots.ts). */
    private readonly leased: (type: string) => number | undefined = () => undefined,
    /** Whether this process reads its streams and runs the turns (a container, troupe dev --host process), or only sends (a Lambda is the host). */
    private readonly consumes = false,
  ) {
    this.listeners = new Listeners(logger)
    this.ages = new GaugeWindow(() => clock.now())
  }

  on(listener: Listener): () => void {
    return this.listeners.add(listener)
  }

  /** An event of the system: the held batches follow it, then the listeners hear it. */
  emit(event: TroupeEvent): void {
    this.batches.note(event)
    if (event.type === '@troupe.done' || event.type === '@troupe.filtered' || event.type === '@troupe.retried' || event.type === '@troupe.dead') {
      const type = event.envelope.type
      if (event.at > (this.lastActivity.get(type) ?? -Infinity)) this.lastActivity.set(type, event.at)
    }
    this.listeners.emit(event)
  }

  /** A batch was taken in: the oldest arrival of each type's records (epoch ms), read as the type's iterator age now. */
  arrivals(oldest: ReadonlyMap<string, number>): void {
    const now = this.clock.now()
    for (const [type, at] of oldest) {
      const age = iteratorAgeMs([at], now)
      if (age !== undefined) this.ages.add(type, 'iteratorAgeMs', now, age)
    }
  }

  /** A turn of the instance committed here: its state now, or undefined when it was deleted. */
  remember(type: string, key: string, state: unknown, updatedAt: number, lastMessageId: string | undefined): void {
    let byKey = this.seen.get(type)
    if (!byKey) this.seen.set(type, (byKey = new Map()))
    byKey.delete(key)
    if (state === undefined) return
    byKey.set(key, { type, key, state, queued: 0, running: false, lastMessageId, updatedAt })
    if (byKey.size > REMEMBERED_INSTANCES) byKey.delete(byKey.keys().next().value!)
  }

  /** The type's instances remembered here, with their messages in the held batches. */
  instances(type: string): InstanceSnapshot[] {
    const { perInstance } = this.batches.inFlight()
    return [...(this.seen.get(type)?.values() ?? [])].map((i) => {
      const busy = perInstance.get(`${i.type}#${i.key}`)
      return { ...i, queued: busy?.queued ?? 0, running: busy?.running ?? false }
    })
  }

  /** Drops the copy of an instance; true when there was one and no held batch has a message of it. */
  evict(type: string, key: string): boolean {
    const byKey = this.seen.get(type)
    if (!byKey?.has(key) || this.batches.inFlight().perInstance.has(`${type}#${key}`)) return false
    byKey.delete(key)
    return true
  }

  snapshot(): SystemSnapshot {
    let dead = 0
    const { perType } = this.batches.inFlight()
    const parked = this.host.parkedByType()
    const ages = this.ages.backlog()
    const actors = [...this.host.types.values()].map((type) => {
      const { duplicates: _d, conflicts: _c, ...counts } = this.host.counts.get(type.type)!
      dead += counts.dead
      const busy = perType.get(type.type)
      const waiting = parked.get(type.type)
      // A capped type's turns under way on every host: its live leases' slots (this process's own
      // among them; its batches' groups waiting for a slot are not running).
      const leased = slotLimit(type) === undefined ? undefined : this.leased(type.type)
      return {
        type: type.type,
        kind: type.kind,
        instances: this.seen.get(type.type)?.size ?? 0,
        queued: busy?.queued ?? 0,
        running: leased ?? busy?.running ?? 0,
        ...(waiting ? { parked: waiting.count, oldestParkedAt: waiting.oldestSentAt } : {}),
        counts,
        lastActivityAt: this.lastActivity.get(type.type),
        ...(ages.get(type.type)?.iteratorAgeMs !== undefined ? { iteratorAgeMs: ages.get(type.type)!.iteratorAgeMs! } : {}),
      }
    })
    const requests = this.requests.snapshot()
    let messages = 0
    for (const c of this.host.counts.values()) messages += c.done + c.filtered + c.dead
    const behind = this.shards().filter((s) => s.owned && s.millisBehindLatest !== undefined).map((s) => s.millisBehindLatest!)
    return {
      at: this.clock.now(),
      actors,
      deadLetters: dead,
      ...(behind.length !== 0 ? { iteratorAgeMs: Math.max(...behind) } : {}),
      cost: { messages, requests: requests.total.requests, byApi: requests.byApi, ...(this.consumes ? { compute: 'process' as const } : {}) },
    }
  }
}
