import type { MessageId } from './ids.js'

/**
 * Where a message is. `done`, `filtered` and `dead` are final: every message ends in one of them.
 * `paused`: it waits because its actor type or key is paused (`system.pause`), until `resume`.
 * `throttled`: it waits for a token of its actor's throttle (on AWS, parked in its instance's item).
 */
export type MessageStatus = 'accepted' | 'paused' | 'throttled' | 'running' | 'retrying' | 'done' | 'filtered' | 'dead'

export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['done', 'filtered', 'dead'])

export interface ReceiptEntry {
  status: MessageStatus
  /** Epoch milliseconds. */
  at: number
  attempt: number
  /** Why it was retried, dead-lettered or filtered. */
  reason?: string
}

/** A message's status history, kept when the sender asked for a receipt, and for an `ask` whose message needs one (README, "Receipts and inspection"). */
export interface Receipt {
  id: MessageId
  actor: string
  key: string
  status: MessageStatus
  attempts: number
  history: ReceiptEntry[]
}

/**
 * The reason on the `accepted` entry a replay of a dead letter starts its new run with: the
 * history goes on from the run that died, and this entry says where the replay began.
 */
export const REPLAYED = 'replayed'

export function isFinal(status: MessageStatus): boolean {
  return FINAL_STATUSES.has(status)
}
