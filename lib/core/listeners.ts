import type { Listener, TroupeEvent } from './inspection.js'
import type { Logger } from './logger.js'

/**
 * The inspection listeners of one system. Hosts test `active` before they build an event, so a
 * system nobody watches makes none; a listener that throws is logged and the others still hear.
 */
export class Listeners {
  private list: Listener[] = []

  constructor(private readonly logger: Logger) {}

  get active(): boolean {
    return this.list.length !== 0
  }

  /** Adds a listener; returns what removes it. Emitting goes on over the list it began with. */
  add(listener: Listener): () => void {
    this.list = [...this.list, listener]
    return () => {
      this.list = this.list.filter((l) => l !== listener)
    }
  }

  emit(event: TroupeEvent): void {
    for (const l of this.list) {
      try {
        l(event)
      } catch (error) {
        this.logger.error('inspection listener threw', { event: event.type, error: error instanceof Error ? error.message : String(error) })
      }
    }
  }
}
