// Replaying a dead letter from the table: its message is sent again as a new run, under an origin
// no receiver has seen, so one that saw the message end (dead) does not take the replay for a copy
// of it (docs/guarantees.md, "Replays of dead letters"). The letter is held, not taken, until the
// message is on its stream: a replay that stops part-way (its send failed, its process died)
// leaves it, and a replay of it again takes over. To an instance with state the message goes
// under a lane of its own, noted in the instance's item before it is sent, so however the replays
// of one letter end, the instance applies it once (replay-notes.ts); a type without state runs it
// at least once, as it runs every message. A record no host could read is no message: its bytes
// go back on their stream as they were, at least once too. One set of rules for both who replay:
// AwsSystem.replay, and TableInspector.replay (`troupe inspect`, with no system running); they
// differ only in the parts they hand in.
import { nanoid } from 'nanoid'
import type { Envelope, Origin } from '../core/envelope.js'
import { NoDeadLetterError, ReplayUnderWayError, TroupeError } from '../core/errors.js'
import { changeInstanceMeta } from '../hosts/durable/instance-meta-change.js'
import { MAX_REPLAY_NOTES, noteReplay, readReplay, replayOrigin, type ReplayRank } from '../hosts/durable/replay-notes.js'
import type { InstanceMeta } from '../hosts/durable/instance-meta.js'
import { dropPendingOf, merged, receiptsIn } from '../hosts/durable/pending-receipts.js'
import type { ProcessLane } from '../hosts/durable/process-lane.js'
import type { RecordCodec } from '../routing/record-codec.js'
import { recordToPutBack, withNewOrigins, type RecordToPutBack } from '../routing/unreadable-record.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { DynamoDBStateStore } from '../store/dynamodb.js'
import { sleep } from '../store/dynamodb-table.js'
import type { ReceiptRecord, SideEffectStore, StoredInstance, StoredReceipt } from '../store/index.js'
import { DEFAULT_TOMBSTONE_TTL_MS } from '../core/defaults.js'
import { REPLAYED, type ReceiptEntry } from '../core/receipt.js'
import { errorRecord, type ReplayClaim } from '../core/dead-letter.js'

/** How long a replay holds its letter: a replay of it after that takes over (the first one's process died). */
const HOLD_MS = 5 * 60_000
/** How long a replay waits for room for its note in an item that keeps MAX_REPLAY_NOTES. */
const ROOM_WAIT_MS = 30_000

/**
 * Entries of the runs before a replay kept at most, and the bytes they may take, each reason cut
 * short: they ride on one item (400 KB) with the new run's first entry, and a letter replayed
 * again and again, or failing with long errors, would grow it past what an item holds (the
 * receipt could then not be written at all). The newest are kept.
 */
const MAX_EARLIER_ENTRIES = 100
const MAX_EARLIER_BYTES = 32 * 1024
const KEPT_REASON_CHARS = 1_000

/** How a replay reaches the streams. */
export interface ReplaySender {
  /** The streams it writes to: an unreadable record goes back only onto one of these. */
  streams: readonly string[]
  /** Puts an unreadable record's bytes back on their stream. */
  putData(record: RecordToPutBack, about: { actor: string; messageId: string }): Promise<unknown>
  /** Sends the replayed message; resolves once the stream has it. */
  send(envelope: Envelope): Promise<void>
}

export interface ReplayParts {
  journal: DynamoDBJournalStore
  state: DynamoDBStateStore
  /** The replaying process's lane: the replay's new place. */
  lane: ProcessLane
  codec: RecordCodec
  /** Where the letters were looked for, for the error when there is none (`in table t`). */
  where?: string
  /**
   * The sender, asked for once the letter is held and before anything is written: one that has
   * no stream to write to throws there (after a missing letter is said), and the letter stays.
   */
  sender(): ReplaySender
  /** The `accepted` receipt entry the replayed message's receipt starts again with. */
  accepted(envelope: Envelope): ReceiptRecord
  /** Whether actor type `type` keeps state (an item per instance); undefined when the app's types are not known. */
  keepsState(type: string): boolean | undefined
  /** The time, epoch ms: how long a hold lasts. */
  now(): number
  /** The records of `ctx.once`: a message's are pinned while its letter waits, and unpinned once it is replayed. */
  sideEffects: SideEffectStore
}

/** The entry a replay's run starts with: `accepted`, saying it is a replay, with the history before it. */
export function replayedEntry(accepted: ReceiptRecord, before: StoredReceipt | undefined): ReceiptRecord {
  const earlier = boundedHistory(before === undefined ? [] : [...(before.earlier ?? []), ...before.history])
  return { ...accepted, entry: { ...accepted.entry, reason: REPLAYED }, ...(earlier.length !== 0 ? { earlier } : {}) }
}

/** The newest of `entries` that fit MAX_EARLIER_ENTRIES and MAX_EARLIER_BYTES, each reason cut to KEPT_REASON_CHARS. */
function boundedHistory(entries: readonly ReceiptEntry[]): ReceiptEntry[] {
  const kept: ReceiptEntry[] = []
  let bytes = 0
  for (let i = entries.length - 1; i >= 0 && kept.length < MAX_EARLIER_ENTRIES; i--) {
    const e = entries[i]!
    const entry = e.reason !== undefined && e.reason.length > KEPT_REASON_CHARS ? { ...e, reason: `${e.reason.slice(0, KEPT_REASON_CHARS)}…` } : e
    bytes += Buffer.byteLength(JSON.stringify(entry))
    if (bytes > MAX_EARLIER_BYTES) break
    kept.push(entry)
  }
  return kept.reverse()
}

/**
 * After the replay's first entry was written, the replay failed and the letter stays: the receipt
 * ends that run as dead, with why, rather than showing a run that never went out. A failure to
 * write that is left (the error thrown is the replay's). `sent` says whether the message may have
 * gone out all the same, and then whether a replay again applies it once or may run it again.
 */
async function notReplayed(journal: DynamoDBJournalStore, first: ReceiptRecord, error: unknown, sent: 'once' | 'again' | undefined): Promise<void> {
  const why = `the replay failed, and the dead letter was kept: ${error instanceof Error ? error.message : String(error)}`.slice(0, KEPT_REASON_CHARS)
  const after = sent === 'once' ? 'replaying the letter again applies it once' : 'replaying the letter again may run it twice (its actor keeps no state)'
  const reason = sent === undefined ? why : `${why} (the message may have reached its stream all the same: ${after})`
  const dead: ReceiptRecord = { ...first, entry: { status: 'dead', at: Date.now(), attempt: 0, reason }, error: errorRecord(error) }
  delete dead.earlier
  try {
    // What is left of the old run's entries (the step that failed may have been their delete) is
    // in `first` already. Once the message may be on its way, they are gone (dropOldRun), and
    // what else the receipt holds is the new run's: its entries, of attempts from 1, read after
    // this one of attempt 0, so a run that went through still shows how it ended.
    if (sent === undefined) await journal.deleteReceipt(first.id, first)
    await journal.putReceipts([dead])
  } catch {
    // The replay's own error is the one thrown.
  }
}

/**
 * Keeps in the instance's item the note that `envelope` is about to come, or (`resume`) looks
 * whether the note of a replay that may have sent it stands (replay-notes.ts); waits while the
 * item has no room. A look that finds the note gone confirms it with a write, which fails on a
 * read that was not the latest (a store read eventually consistent).
 */
async function noteInItem(parts: ReplayParts, envelope: Envelope, how: { resume: true } | { resume: false; rank: ReplayRank }): Promise<'noted' | 'gone' | 'outranked'> {
  const deadline = parts.now() + ROOM_WAIT_MS
  for (;;) {
    let noting: 'noted' | 'full' | 'gone' | 'outranked' = 'full'
    await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => {
      const before = JSON.stringify(meta.replays)
      noting = noteReplay(meta, envelope.id, envelope.origin!, how)
      return noting === 'gone' || JSON.stringify(meta.replays) !== before
    }, 'the note of a replayed message')
    if (noting !== 'full') return noting
    if (parts.now() >= deadline) {
      throw new TroupeError(
        'TROUPE_REPLAY_BUSY',
        `${envelope.type}#${envelope.key} has ${MAX_REPLAY_NOTES} replayed messages it has not read yet; waited ${ROOM_WAIT_MS / 1000} s for room to note dead letter ${envelope.id}, which was not sent and stays (is its host reading its stream?)`,
      )
    }
    await sleep(250)
  }
}

/**
 * The new run's first receipt entry, written before anything of the old run is dropped. The
 * replay is a new run of the message: its attempts count from 1 again, so its entries would
 * overwrite the old run's; those are kept on the new run's first entry instead, and read before it
 * (a receipt's history is all that happened to the message). What its instance's item still keeps
 * of the old run's end goes first, so a step that fails leaves the history whole. Done before the
 * message may be on its way, so nothing of the new run is dropped.
 */
async function startRun(parts: ReplayParts, envelope: Envelope, stored: StoredInstance | undefined): Promise<ReceiptRecord> {
  const { journal } = parts
  const before = merged(await journal.receipt(envelope.id, Date.now()), receiptsIn(stored, envelope.id))
  const entry = replayedEntry(parts.accepted(envelope), before)
  await journal.putReceipts([entry])
  return entry
}

/** Drops what is left of the old run's receipt entries, in the instance's item and in the journal, once `first` is written. */
async function dropOldRun(parts: ReplayParts, envelope: Envelope, first: ReceiptRecord): Promise<void> {
  await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => dropPendingOf(meta, envelope.id), 'the replayed message’s entries')
  await parts.journal.deleteReceipt(envelope.id, first)
}

/** Sends dead letter `id` again; resolves to the message sent once the stream has it (or once its instance is known to have read it). */
export async function replayDeadLetter(parts: ReplayParts, id: string): Promise<Envelope> {
  const { journal, lane } = parts
  const hold: ReplayClaim = { id: nanoid(), until: parts.now() + HOLD_MS }
  const held = await journal.claimDeadLetter(id, hold, parts.now())
  if (!held) throw new NoDeadLetterError(id, parts.where)
  const { letter, sentAs, gen } = held
  const { origin: _old, ...rest } = letter.envelope
  // A new run: attempts from 1 again, and its death, if it dies again, later than this letter's.
  const envelope: Envelope = { ...rest, attempt: 0, diedAt: letter.deadAt }
  /** A position of the process's lane, for a message that goes there. */
  let pos: number | undefined
  // The new run's first entry, once written: a replay that fails after it says so in the receipt.
  let first: ReceiptRecord | undefined
  /** The message may be on its way from here on: a replay again applies it once, or may run it again. */
  let sent: 'once' | 'again' | undefined
  try {
    const sender = parts.sender()
    const record = recordToPutBack(letter, sender.streams)
    if (record) {
      const at = (pos = lane.take())
      const data = withNewOrigins(record.data, parts.codec, (i) => lane.origin(at, i))
      await sender.putData({ ...record, data }, { actor: envelope.type, messageId: envelope.id })
    } else {
      // A replay's run keeps a receipt: every copy of it, whichever replay sends it, asks for one.
      envelope.receipt ??= 'status'
      const stored = await parts.state.get(envelope.type, envelope.key)
      if (sentAs !== undefined || (parts.keepsState(envelope.type) ?? stored !== undefined)) {
        // A replay of this letter may have sent it: the same origin while its note stands, and
        // nothing once the note ended (the instance read it). Else a note of its own, kept before
        // anything is sent, and its origin kept with the letter.
        envelope.origin = sentAs ?? replayOrigin()
        const noting = await noteInItem(parts, envelope, sentAs !== undefined ? { resume: true } : { resume: false, rank: { deadAt: letter.deadAt, gen } })
        if (noting === 'outranked') throw new ReplayUnderWayError(id)
        if (noting === 'gone') {
          await journal.dropClaimedDeadLetter(id, hold.id)
          await unpin(parts, envelope, letter.deadAt)
          return envelope
        }
        if (sentAs === undefined) {
          first = await startRun(parts, envelope, stored)
          await dropOldRun(parts, envelope, first)
          // Only the replay that holds the letter sends: one that took over from this one sends
          // instead. The letter there (or ended) without this one's origin, that origin was never
          // sent, and its note goes; the letter ended under it, or gone without a trace, the one
          // that took over may have sent under it (this one's write made, its answer lost), and
          // the note stays.
          const marked = await journal.markDeadLetterSent(id, hold.id, envelope.origin)
          if (marked !== 'kept') {
            const origin = envelope.origin
            if (marked === 'taken over') await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => dropNote(meta, envelope.id, origin), 'the note of a replayed message').catch(() => undefined)
            throw new ReplayUnderWayError(id)
          }
        }
        sent = 'once'
      } else {
        envelope.origin = lane.origin((pos = lane.take()))
        first = await startRun(parts, envelope, stored)
        await dropOldRun(parts, envelope, first)
        sent = 'again'
      }
      await sender.send(envelope)
    }
  } catch (error) {
    // The letter stays, and its hold ends now: a replay of it again takes over at once (and sends
    // where this one may have sent, kept with the letter). The receipt ends this run only while
    // it holds the letter: a replay that took over from it writes the receipt from then on.
    const held = await journal.releaseDeadLetter(id, hold.id).catch(() => false)
    if (held && first !== undefined) await notReplayed(journal, first, error, sent)
    throw error
  } finally {
    if (pos !== undefined) lane.settle(pos)
  }
  try {
    await journal.dropClaimedDeadLetter(id, hold.id)
  } catch {
    // The message is on its stream. The letter stays, with its hold ended: a replay of it again
    // finds the note ended once the instance read it, and sends nothing.
    await journal.releaseDeadLetter(id, hold.id).catch(() => undefined)
    return envelope
  }
  await unpin(parts, envelope, letter.deadAt)
  return envelope
}

/**
 * The letter is gone: the records of its message's side effects, pinned while it waited, live
 * again as long as a copy of the message may come. Left pinned when this fails (kept, not lost).
 */
async function unpin(parts: ReplayParts, envelope: Envelope, deadAt: number): Promise<void> {
  await Promise.resolve(parts.sideEffects.unpin(envelope.id, deadAt, parts.now() + DEFAULT_TOMBSTONE_TTL_MS)).catch(() => undefined)
}

/** Drops the note of message `id` under `origin`, which its replay will not send. */
function dropNote(meta: InstanceMeta, id: string, origin: Origin): boolean {
  const before = meta.replays?.length
  readReplay(meta, { id, origin })
  return meta.replays?.length !== before
}
