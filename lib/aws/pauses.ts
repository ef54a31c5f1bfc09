// Pausing on AWS: kept in the table, so every host (a container's shard consumer, a Lambda
// invocation) sees it in the read it makes anyway.
//
//   a whole type   an item of the state store, type `troupe.paused`, key = the type; the durable
//                  host reads it in the same BatchGetItem as the batch's state.
//   one key        `paused` in the instance item's bookkeeping, written under its version.
//
// Either returns NOTICE_MS after it is written: a warm Lambda environment may go by what it read
// or wrote that long before (recent-items.ts), so a direct ask that begins after the pause returns
// sees it. A stream batch that read the item or the type unpaused before runs to its end.
//
// A paused instance's messages are held in its own item (`held`, in arrival order) and their
// records are marked read, so the shard moves on and other keys flow. Resuming clears the mark
// and puts a flush record for the instance on the stream as a wake-up: the host that reads it
// runs everything held first, in order, and applies nothing for the record itself. Messages
// parked (by a throttle, or for a retry) wait in the item too; a paused instance sets no wake-up for them, so
// resume wakes them. A type's resume deletes its item first and scans after: a batch that read
// the type paused and commits after the scan wakes its own key (type-pause-check.ts).
import { setTimeout as delay } from 'node:timers/promises'
import type { Envelope } from '../core/envelope.js'
import { StoreConflictError } from '../core/errors.js'
import { encode } from '../core/serialization.js'
import type { Pause } from '../core/system.js'
import { PAUSE_TYPE } from '../hosts/durable/durable-host.js'
import { readMeta, type InstanceMeta } from '../hosts/durable/instance-meta.js'
import { changeInstanceMeta } from '../hosts/durable/instance-meta-change.js'
import { flushRecord } from '../hosts/durable/flush-record.js'
import { NOTICE_MS } from '../hosts/durable/recent-items.js'
import { derivedId, type MessageId } from '../core/ids.js'
import type { DynamoDBStateStore } from '../store/dynamodb.js'

export class DurablePauses {
  constructor(
    private readonly state: DynamoDBStateStore,
    /** Puts a flush record for a resumed instance on the stream (it applies nothing; the host runs what waits). */
    private readonly wake: (envelope: Envelope) => Promise<void>,
    private readonly now: () => number,
  ) {}

  async pause(type: string, key: string | undefined): Promise<void> {
    if (key === undefined) {
      try {
        await this.state.put(PAUSE_TYPE, type, { state: encode({ pausedAt: this.now() }), version: 1, updatedAt: this.now() }, undefined)
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw error // already paused
      }
    } else {
      await changeInstanceMeta(this.state, this.now, type, key, (meta) => {
        if (meta.paused) return false
        meta.paused = true
        return true
      }, 'the pause')
    }
    await delay(NOTICE_MS)
  }

  async resume(type: string, key: string | undefined): Promise<void> {
    if (key !== undefined) {
      const meta = await changeInstanceMeta(this.state, this.now, type, key, (m) => {
        if (!m.paused) return false
        delete m.paused
        return true
      }, 'the pause')
      if (meta !== undefined && waits(meta) && !(await this.typePaused(type))) await this.wake(this.flush(type, key))
      return
    }
    await this.state.delete(PAUSE_TYPE, type)
    // Every instance of the type that holds messages needs its wake-up.
    let after: string | undefined
    do {
      const page = await this.state.scan(type, { limit: 100, ...(after === undefined ? {} : { after }) })
      for (const { key: instance, stored } of page.items) {
        // An item troupe cannot read (written by hand, or damaged) is its host's to refuse, not a resume's.
        const { meta } = readMeta(stored.meta)
        if (!meta.paused && waits(meta)) await this.wake(this.flush(type, instance))
      }
      after = page.next
    } while (after !== undefined)
  }

  /** Paused types and keys, read from the table page by page. */
  async list(): Promise<Pause[]> {
    const out: Pause[] = []
    let after: string | undefined
    do {
      const page = await this.state.scan(undefined, { limit: 200, ...(after === undefined ? {} : { after }) })
      for (const { type, key, stored } of page.items) {
        if (type === PAUSE_TYPE) out.push({ type: key })
        else if (readMeta(stored.meta).meta.paused) out.push({ type, key })
      }
      after = page.next
    } while (after !== undefined)
    return out
  }

  /** The wake-up of a resumed instance. */
  private flush(type: string, key: string): Envelope {
    const now = this.now()
    const id = derivedId(`${type}#${key}` as MessageId, `resume.${now}`)
    return flushRecord(type, key, id, id, now)
  }

  private async typePaused(type: string): Promise<boolean> {
    return (await this.state.get(PAUSE_TYPE, type)) !== undefined
  }
}

/** Whether a resumed instance has messages waiting in its item. */
function waits(meta: InstanceMeta): boolean {
  return meta.parked !== undefined || meta.held !== undefined
}
