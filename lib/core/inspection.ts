import type { Envelope } from './envelope.js'

/**
 * What happens in a system, as a typed stream. The CLI, the web view and tests consume it.
 * Listeners cost nothing when there are none.
 */
export type TroupeEvent =
  | { type: '@troupe.accepted'; at: number; envelope: Envelope }
  | { type: '@troupe.delivered'; at: number; envelope: Envelope }
  | { type: '@troupe.done'; at: number; envelope: Envelope; durationMs: number }
  | { type: '@troupe.retried'; at: number; envelope: Envelope; error: unknown; delayMs: number }
  | { type: '@troupe.throttled'; at: number; actor: string; key: string; waitMs: number; scope: 'type' | 'key' }
  | { type: '@troupe.filtered'; at: number; envelope: Envelope; reason: string }
  | { type: '@troupe.dead'; at: number; envelope: Envelope; error: unknown }
  | { type: '@troupe.replayed'; at: number; envelope: Envelope }

export type TroupeEventType = TroupeEvent['type']
export type Listener = (event: TroupeEvent) => void

/** Counts per actor type. Every accepted message ends in `done`, `filtered` or `dead`. */
export interface ActorCounts {
  accepted: number
  done: number
  filtered: number
  dead: number
  /** Retries scheduled (a message retried twice counts twice). */
  retried: number
  /** Times a turn waited for a token. */
  throttled: number
}

export interface ActorSnapshot {
  type: string
  kind: 'keyed' | 'singleton' | 'stateless'
  instances: number
  /** Messages waiting in mailboxes (including those parked for a retry or a token). */
  queued: number
  running: number
  /**
   * On AWS: messages parked for a throttle's token in their instances' items, as far as this
   * process knows (those its own turns parked); `troupe inspect actors` counts them all.
   */
  parked?: number
  /** On AWS: when the oldest of those parked messages was sent, epoch milliseconds. */
  oldestParkedAt?: number
  counts: ActorCounts
  /** Epoch milliseconds of the last turn, or undefined. */
  lastActivityAt: number | undefined
  /**
   * On AWS, in a process that reads its streams: how long the type's oldest record in a batch had
   * been in the stream when this process took the batch in, ms (the most of the last minute).
   */
  iteratorAgeMs?: number
  /** The whole type is paused (known to this process; the AWS mode keeps pauses in the table: `system.pauses()`). */
  paused?: boolean
  /** Keys paused one by one (known to this process). */
  pausedKeys?: string[]
}

export interface InstanceSnapshot<State = unknown> {
  type: string
  key: string
  state: State
  queued: number
  running: boolean
  lastMessageId: string | undefined
  updatedAt: number | undefined
}

export interface SystemSnapshot {
  at: number
  actors: ActorSnapshot[]
  deadLetters: number
  /**
   * On AWS, in a process that reads its streams: how far behind the newest record its reading of
   * them is, in milliseconds (the most of its shards; Kinesis's MillisBehindLatest).
   */
  iteratorAgeMs?: number
  /**
   * What the cloud services were asked, on a host that pays per request (the AWS mode): requests
   * by API since the system started, and the messages this process's turns applied, to divide by.
   */
  cost?: {
    messages: number
    requests: number
    byApi: Record<string, { requests: number; errors: number; requestBytes: number; responseBytes: number; units?: number }>
    /** 'process': this process reads its streams and runs the turns itself (a container, `troupe dev --host process`), so no Lambda compute is paid. */
    compute?: 'process' | 'lambda'
  }
}
