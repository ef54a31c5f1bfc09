// The outbox segments this host sent, remembered so a redelivery in the same process sends none
// again (another process, or this one once it forgot, sends them again: every entry is idempotent,
// outbox.ts). A segment is known by its instance, lane, position and size.
import type { OutboxSegment } from './outbox.js'

/** Outbox segments remembered as sent by this host, so a redelivery in the same process sends none again. */
export const SENT_MEMORY = 10_000

export class SentSegments {
  /** Outbox segments this host sent (`type#key`, lane, position, size). */
  private readonly sent = new Set<string>()

  private segmentId(name: string, segment: OutboxSegment): string {
    return `${name}\u0000${segment.lane}\u0000${segment.pos}\u0000${segment.spilled?.count ?? segment.entries.length}`
  }

  sentHere(name: string, segment: OutboxSegment): boolean {
    return this.sent.has(this.segmentId(name, segment))
  }

  rememberSent(name: string, segment: OutboxSegment): void {
    const id = this.segmentId(name, segment)
    this.sent.delete(id)
    this.sent.add(id)
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.values().next().value!)
  }
}
