import type { TroupeEvent } from '../core/inspection.js'

/** Where a message comes from when no turn sent it (an API handler, a timer's firing). */
export const OUTSIDE = '(outside)'

/** What one actor type did since the last take. */
export interface TypeCounts {
  /** Messages that ended done or filtered. */
  processed: number
  filtered: number
  retried: number
  throttled: number
  dead: number
}

/** Messages sent from one type to another since the last take. */
export interface TrafficCount {
  from: string
  to: string
  sent: number
}

export interface MetricsTake {
  types: Map<string, TypeCounts>
  traffic: TrafficCount[]
}

/** Types of the messages whose turns ran lately, to name the sender of what they told: bounded. */
const REMEMBERED_SENDERS = 10_000

/**
 * Counts a host's turns and traffic from its events, for metrics a host writes out (one process
 * keeps its counts in `inspect()`; a Lambda host writes these as EMF lines after each
 * invocation). A message's sender is known where its turn ran: the host emits a message's
 * `accepted` just after the turn that told it, so the sender's type is remembered from that
 * turn's `delivered` or `done`. A message that no turn sent counts as from `(outside)` where it
 * ends. Counts are of events, not of messages: a turn run again after a lost commit counts again.
 */
export class ActorMetrics {
  private types = new Map<string, TypeCounts>()
  private traffic = new Map<string, TrafficCount>()
  private readonly senders = new Map<string, string>()

  /** The listener to give `system.on`. */
  readonly listener = (event: TroupeEvent): void => this.record(event)

  private record(event: TroupeEvent): void {
    switch (event.type) {
      case '@troupe.delivered':
        this.sender(event.envelope.id, event.envelope.type)
        return
      case '@troupe.done':
        this.sender(event.envelope.id, event.envelope.type)
        this.countsOf(event.envelope.type).processed++
        this.ended(event.envelope)
        return
      case '@troupe.filtered': {
        const counts = this.countsOf(event.envelope.type)
        counts.processed++
        counts.filtered++
        this.ended(event.envelope)
        return
      }
      case '@troupe.dead':
        this.countsOf(event.envelope.type).dead++
        this.ended(event.envelope)
        return
      case '@troupe.retried':
        this.countsOf(event.envelope.type).retried++
        return
      case '@troupe.throttled':
        this.countsOf(event.actor).throttled++
        return
      case '@troupe.accepted': {
        const cause = event.envelope.causationId
        const from = cause === undefined ? undefined : this.senders.get(cause)
        // Counted where the sending turn ran; a message from outside counts where it ends (below).
        if (from !== undefined) this.sent(from, event.envelope.type)
        return
      }
      case '@troupe.replayed':
        return
    }
  }

  /** What was counted since the last take; the counts start again from zero. */
  take(): MetricsTake {
    const taken = { types: this.types, traffic: [...this.traffic.values()] }
    this.types = new Map()
    this.traffic = new Map()
    return taken
  }

  /**
   * A message from outside any turn counts as traffic where it ends: the process that told it
   * (an API handler) writes no metrics, the host that ran it does.
   */
  private ended(envelope: { causationId: string | undefined; type: string }): void {
    if (envelope.causationId === undefined) this.sent(OUTSIDE, envelope.type)
  }

  private countsOf(type: string): TypeCounts {
    let counts = this.types.get(type)
    if (!counts) this.types.set(type, (counts = { processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0 }))
    return counts
  }

  private sender(id: string, type: string): void {
    if (this.senders.has(id)) return
    this.senders.set(id, type)
    if (this.senders.size > REMEMBERED_SENDERS) this.senders.delete(this.senders.keys().next().value!)
  }

  private sent(from: string, to: string): void {
    const name = `${from}\u0000${to}`
    const edge = this.traffic.get(name)
    if (edge) edge.sent++
    else this.traffic.set(name, { from, to, sent: 1 })
  }
}
