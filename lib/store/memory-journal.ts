// The journal in memory: receipts and dead letters in Maps, answered synchronously, so a durable
// host on memory waits on nothing. It keeps copies (never the caller's objects), so what it
// returns behaves like what a store that serialises returns: changing it changes nothing stored.
// Dead letters are kept whole whatever their size, as the DynamoDB journal keeps them (it puts
// those over an item's 400 KB in its payload store): the same letter comes back from both.

import { DEFAULT_DEAD_LETTER_LIMIT, DEFAULT_RECEIPT_LIMIT } from '../core/defaults.js'
import { ConfigError, ReplayUnderWayError } from '../core/errors.js'
import { copyState } from '../core/state-copy.js'
import { lettersInTheWay, letterOwner, MAX_LETTER_MOVES, movedLetter, placeLetter, type DeadLetter, type HeldDeadLetter, type ReplayClaim } from '../core/dead-letter.js'
import type { Origin } from '../core/envelope.js'
import type { JournalStore, ReceiptRecord, StoredReceipt, TraceLink } from './index.js'
import { assembleReceipt, copyEntry, receiptEntryKey } from './receipt-records.js'

export interface MemoryJournalOptions {
  /** Messages whose receipts are kept; past it, the message first written longest ago is dropped. @default 100_000 */
  receiptLimit?: number
  /** Dead letters kept; past it, the one put longest ago is dropped (and counted in `dropped`). @default 10_000 */
  deadLetterLimit?: number
}

/** Receipts and dead letters in Maps, synchronously, each bounded, oldest dropped first. */
export class MemoryJournalStore implements JournalStore {
  /** Message id → entry key → entry. */
  private readonly receipts = new Map<string, Map<string, ReceiptRecord>>()
  private readonly letters = new Map<string, DeadLetter>()
  /** Replays' holds on letters, by message id, and where a replay may have sent each: a letter put again (a newer one) has neither. */
  private readonly claims = new Map<string, { claim: ReplayClaim; until: number; gen: number; sentAs?: Origin }>()
  /**
   * The death (`deadAt`) of each letter replayed or taken, by message id, and where its replay sent
   * it, for as long as a copy of its write may come (as many as letters are kept): that copy must
   * not bring it back.
   */
  private readonly ended = new Map<string, { deadAt: number; owner: string; sentAs?: Origin }>()
  /** Correlation id → message id → link (dropped with the message's receipt). */
  private readonly links = new Map<string, Map<string, TraceLink & { expiresAt: number }>>()
  private readonly receiptLimit: number
  private readonly deadLetterLimit: number
  /** What the limits dropped, so that a loss is never silent. */
  readonly dropped = { receipts: 0, deadLetters: 0 }

  constructor(options: MemoryJournalOptions = {}) {
    this.receiptLimit = limit('receiptLimit', options.receiptLimit, DEFAULT_RECEIPT_LIMIT)
    this.deadLetterLimit = limit('deadLetterLimit', options.deadLetterLimit, DEFAULT_DEAD_LETTER_LIMIT)
  }

  putReceipts(records: readonly ReceiptRecord[]): void {
    // Every record is checked before any is kept, as the DynamoDB store does.
    const keyed = records.map((r) => [receiptEntryKey(r), r] as const)
    for (const [entryKey, r] of keyed) {
      let entries = this.receipts.get(r.id)
      if (!entries) {
        this.receipts.set(r.id, (entries = new Map()))
        this.evictReceipts()
      }
      entries.set(entryKey, copyRecord(r))
      if (r.trace !== undefined) {
        let links = this.links.get(r.trace.correlationId)
        if (!links) this.links.set(r.trace.correlationId, (links = new Map()))
        links.set(r.id, { id: r.id, actor: r.actor, key: r.key, ...r.trace, expiresAt: r.expiresAt })
      }
    }
  }

  trace(correlationId: string, now: number): TraceLink[] {
    return [...(this.links.get(correlationId)?.values() ?? [])].filter((l) => l.expiresAt > now && this.receipts.has(l.id)).map(({ expiresAt: _e, ...l }) => l)
  }

  receipt(id: string, now: number): StoredReceipt | undefined {
    const entries = this.receipts.get(id)
    if (!entries) return undefined
    const live = [...entries]
      .filter(([, r]) => r.expiresAt > now)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r)
    return assembleReceipt(id, live)
  }

  deleteReceipt(id: string, except?: ReceiptRecord): void {
    const entries = this.receipts.get(id)
    const kept = except === undefined ? undefined : entries?.get(receiptEntryKey(except))
    this.receipts.delete(id)
    if (kept !== undefined) this.receipts.set(id, new Map([[receiptEntryKey(except!), kept]]))
  }

  putDeadLetters(letters: readonly DeadLetter[]): void {
    for (const letter of letters) this.putDeadLetter(letter, 0)
  }

  private putDeadLetter(letter: DeadLetter, moves: number): void {
    const id = letter.envelope.id
    const owner = letterOwner(letter)
    const moved = movedLetter(letter, owner)
    const there = this.letters.get(id)
    const ended = this.ended.get(id)
    // A write moved once stays moved, whatever came of the letter that was in its way (taken, or
    // forgotten past deadLetterLimit): a copy of it is known as one where its letter is (its moved
    // id holds this message's letter, or what is left of it; another's there says nothing of it).
    const movedThere = this.letters.get(moved.envelope.id)
    const movedOwner = movedThere !== undefined ? letterOwner(movedThere) : this.ended.get(moved.envelope.id)?.owner
    const place = movedOwner === owner ? 'another' : placeLetter(there !== undefined ? { owner: letterOwner(there), deadAt: there.deadAt, ended: false } : ended && { ...ended, ended: true }, owner, letter.deadAt)
    if (place === 'kept') return
    if (place === 'another') {
      if (moves === MAX_LETTER_MOVES) throw lettersInTheWay(letter)
      this.putDeadLetter(moved, moves + 1)
      return
    }
    this.ended.delete(id)
    // Deleted first, so a replaced letter counts as the newest.
    this.letters.delete(id)
    this.claims.delete(id)
    this.letters.set(id, copyState(letter))
    if (this.letters.size > this.deadLetterLimit) {
      const oldest = this.letters.keys().next().value!
      this.letters.delete(oldest)
      this.claims.delete(oldest)
      this.dropped.deadLetters++
    }
  }

  deadLetters(type?: string): DeadLetter[] {
    const out: DeadLetter[] = []
    for (const letter of this.letters.values()) {
      if (type === undefined || letter.envelope.type === type) out.push(copyState(letter))
    }
    return out.sort(byDeadAt)
  }

  claimDeadLetter(id: string, claim: ReplayClaim, now: number): HeldDeadLetter | undefined {
    const letter = this.letters.get(id)
    if (letter === undefined) return undefined
    const held = this.claims.get(id)
    if (held !== undefined && held.until > now) throw new ReplayUnderWayError(id, held.until)
    const gen = (held?.gen ?? 0) + 1
    this.claims.set(id, { claim, until: claim.until, gen, ...(held?.sentAs ? { sentAs: held.sentAs } : {}) })
    return { letter: copyState(letter), gen, ...(held?.sentAs ? { sentAs: held.sentAs } : {}) }
  }

  markDeadLetterSent(id: string, claimId: string, origin: Origin): 'kept' | 'taken over' | 'gone' {
    if (!this.letters.has(id)) {
      // Ended by a replay that sent it under another origin (or taken): this one's never went.
      const ended = this.ended.get(id)
      return ended !== undefined && ended.sentAs?.lane !== origin.lane ? 'taken over' : 'gone'
    }
    const held = this.claims.get(id)
    if (held === undefined || (held.claim.id !== claimId && held.sentAs?.lane !== origin.lane)) return 'taken over'
    held.sentAs = origin
    return 'kept'
  }

  releaseDeadLetter(id: string, claimId: string): boolean {
    const held = this.claims.get(id)
    if (held?.claim.id !== claimId) return false
    held.until = 0
    return true
  }

  dropClaimedDeadLetter(id: string, claimId: string): void {
    if (this.claims.get(id)?.claim.id !== claimId) return
    this.end(id)
  }

  takeDeadLetter(id: string): DeadLetter | undefined {
    return this.end(id)
  }

  /** Removes letter `id`, keeping its death so that a copy of its write is not kept again. */
  private end(id: string): DeadLetter | undefined {
    const letter = this.letters.get(id)
    if (letter === undefined) return undefined
    const sentAs = this.claims.get(id)?.sentAs
    this.letters.delete(id)
    this.claims.delete(id)
    this.ended.set(id, { deadAt: letter.deadAt, owner: letterOwner(letter), ...(sentAs ? { sentAs } : {}) })
    if (this.ended.size > this.deadLetterLimit) this.ended.delete(this.ended.keys().next().value!)
    return letter
  }

  private evictReceipts(): void {
    if (this.receipts.size <= this.receiptLimit) return
    this.receipts.delete(this.receipts.keys().next().value!)
    this.dropped.receipts++
  }
}

/** Oldest first, then by message id: the order every journal store answers in. */
export function byDeadAt(a: DeadLetter, b: DeadLetter): number {
  const x = a.envelope.id
  const y = b.envelope.id
  return a.deadAt - b.deadAt || (x < y ? -1 : x > y ? 1 : 0)
}

function copyRecord(r: ReceiptRecord): ReceiptRecord {
  const copy: ReceiptRecord = { id: r.id, actor: r.actor, key: r.key, entry: copyEntry(r.entry), expiresAt: r.expiresAt }
  if (r.reply !== undefined) copy.reply = r.reply
  if (r.error !== undefined) copy.error = { ...r.error }
  if (r.earlier !== undefined) copy.earlier = r.earlier.map(copyEntry)
  return copy
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`MemoryJournalOptions.${name} must be a whole number of at least 1, got ${value}`)
  return value
}
