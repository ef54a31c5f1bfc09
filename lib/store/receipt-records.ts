// A receipt's entries, the same in every journal: their order (`receiptEntryKey`, which the
// DynamoDB journal uses as its sort key, so both stores agree on what a repeat is and in which
// order the history reads) and the receipt they add up to. No SDK here: the core loads it.
import { TroupeError } from '../core/errors.js'
import type { MessageStatus, ReceiptEntry } from '../core/receipt.js'
import type { ReceiptRecord, StoredReceipt } from './index.js'

/** Digits of the attempt in an entry key, so that attempts sort as strings. */
const ATTEMPT_DIGITS = 6
const MAX_ATTEMPT = 10 ** ATTEMPT_DIGITS - 1

/**
 * Where a status sits within one attempt. The final statuses share the last rank: an attempt
 * ends in one of them, and the status name after the rank keeps their keys apart.
 */
const STATUS_RANK: Readonly<Record<MessageStatus, number>> = {
  // Both before the first attempt runs; their names keep them apart and in order.
  accepted: 0,
  paused: 0,
  throttled: 0,
  running: 1,
  retrying: 2,
  done: 3,
  filtered: 3,
  dead: 3,
}

/**
 * The identity and the place of a receipt entry: `<attempt, 6 digits>#<status rank>#<status>`.
 * Entries sort by it as strings; two writes with the same key are the same entry (a redelivered
 * batch rewrites it). Throws, naming the message, for what would not sort or store: an attempt
 * that is not a whole number from 0 to 999,999, an unknown status, times that are not numbers.
 */
export function receiptEntryKey(record: ReceiptRecord): string {
  const { entry } = record
  if (!Number.isInteger(entry.attempt) || entry.attempt < 0 || entry.attempt > MAX_ATTEMPT) {
    throw invalid(record, `attempt ${entry.attempt}; expected a whole number from 0 to ${MAX_ATTEMPT}`)
  }
  const rank = Object.hasOwn(STATUS_RANK, entry.status) ? STATUS_RANK[entry.status] : undefined
  if (rank === undefined) throw invalid(record, `status ${JSON.stringify(entry.status)}`)
  if (!Number.isFinite(entry.at)) throw invalid(record, `at ${entry.at}; expected epoch milliseconds`)
  if (!Number.isFinite(record.expiresAt)) throw invalid(record, `expiresAt ${record.expiresAt}; expected epoch milliseconds`)
  return `${String(entry.attempt).padStart(ATTEMPT_DIGITS, '0')}#${rank}#${entry.status}`
}

function invalid(record: ReceiptRecord, what: string): TroupeError {
  return new TroupeError('TROUPE_INVALID_RECEIPT', `receipt entry of message ${record.id} (actor ${record.actor}) has ${what}`)
}

/**
 * Builds what `receipt()` answers from one message's live entries, already in key order: the
 * last entry gives the status and the reply or error, the highest attempt the attempts.
 */
export function assembleReceipt(id: string, live: readonly ReceiptRecord[]): StoredReceipt | undefined {
  const last = live.at(-1)
  if (!last) return undefined
  const receipt: StoredReceipt = {
    id,
    actor: last.actor,
    key: last.key,
    status: last.entry.status,
    attempts: live.reduce((most, r) => Math.max(most, r.entry.attempt), 0),
    history: live.map((r) => copyEntry(r.entry)),
  }
  if (last.reply !== undefined) receipt.reply = last.reply
  if (last.error !== undefined) receipt.error = { ...last.error }
  const trace = live.find((r) => r.trace !== undefined)?.trace
  if (trace !== undefined) receipt.trace = { ...trace }
  const earlier = live.find((r) => r.earlier !== undefined)?.earlier
  if (earlier !== undefined) receipt.earlier = earlier.map(copyEntry)
  return receipt
}

/** A copy of an entry, sharing nothing with it. */
export function copyEntry(entry: ReceiptEntry): ReceiptEntry {
  const copy: ReceiptEntry = { status: entry.status, at: entry.at, attempt: entry.attempt }
  if (entry.reason !== undefined) copy.reason = entry.reason
  return copy
}

/** A stored receipt's whole history: the runs before a replay first (kept on its first entry), then its own. */
export function wholeHistory(receipt: Pick<StoredReceipt, 'earlier' | 'history'>): ReceiptEntry[] {
  return [...(receipt.earlier ?? []), ...receipt.history]
}
