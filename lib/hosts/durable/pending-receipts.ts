// Receipts that travel in an instance's item (durable-host.ts is the map). A direct ask (a Lambda
// `Invoke`) gets its answer from the run itself, so its final receipt entry need not be written
// before the answer goes back: the run's commit already keeps it, in the item's PENDING segment
// (outbox.ts). Writing it there and then would put a third DynamoDB request in a row on every
// direct ask (read, commit, receipt write); instead it is written with what else waits there:
//
//   the instance's next record in its shard   places the PENDING segment and writes every entry
//                                             (an ask whose answer was lost is put on the stream
//                                             by its asker, so it is such a record);
//   a later direct run                        keeps them, until MAX_KEPT receipts or
//                                             MAX_KEPT_BYTES of them wait: then it writes them all
//                                             (one batch write) before its commit drops them.
//
// Whatever takes them out of the item writes them first. Until then, whoever reads the receipt of
// a message asked by Invoke reads the instance's item too (`withPending`): the asker's `accepted`
// entry says so (INVOKED), and names the instance. Only an asker that writes that entry asks for
// this (`AskInvocation.keepReceipt`); for any other, and when the item's PENDING segment is too
// large for it and goes to the overflow store, the entry is written after the commit, as before.
import { FINAL_STATUSES } from '../../core/receipt.js'
import type { ReceiptRecord, StoredInstance, StoredReceipt } from '../../store/index.js'
import { assembleReceipt, receiptEntryKey } from '../../store/receipt-records.js'
import { decodeMeta, type InstanceMeta } from './instance-meta.js'
import { isEndOf, PENDING, type OutboxEntry } from './outbox.js'

/** The reason on the `accepted` entry of a message asked by Invoke: its final entry may wait in its instance's item. */
export const INVOKED = 'asked by Invoke'
/** How many receipts may wait in an item before a direct run writes them: with their trace links, one BatchWriteItem (25 items). */
const MAX_KEPT = 12
/** How many bytes of replies and errors may wait in an item before a direct run writes them. */
const MAX_KEPT_BYTES = 16 * 1024

/** True for the final receipt entry of `answered`, the message a direct run answers itself. */
export function isAnswer(entry: OutboxEntry, answered: string | undefined): boolean {
  return answered !== undefined && entry.kind === 'receipt' && entry.record.id === answered && FINAL_STATUSES.has(entry.record.entry.status)
}

/**
 * What direct run `runId` does with an earlier direct run's PENDING entries: its messages wait for
 * the shard (kept); its timers and letters were written after that run's commit and are written
 * again (keyed writes) so they need not be kept; its receipts are kept while few and small, else
 * written. A run of the same id again (a wake-up fired again: the first did not finish, its host
 * died after its commit or its writes failed) writes that run's receipts again: no reader but an
 * asker by Invoke's looks for them in the item, and the first run's write may never have landed.
 */
export function settlePending(entries: readonly OutboxEntry[], runId?: string): { write: OutboxEntry[]; keep: OutboxEntry[] } {
  const write: OutboxEntry[] = []
  const keep: OutboxEntry[] = []
  const receipts: OutboxEntry[] = []
  let bytes = 0
  for (const e of entries) {
    if (e.kind === 'message') keep.push(e)
    else if (e.kind === 'receipt' && (runId === undefined || e.by !== runId)) {
      receipts.push(e)
      bytes += (e.record.reply?.length ?? 0) + (e.record.error === undefined ? 0 : JSON.stringify(e.record.error).length)
    } else write.push(e)
  }
  // The commit of the run that reads them adds one more: room is left for it.
  if (receipts.length < MAX_KEPT && bytes < MAX_KEPT_BYTES) keep.push(...receipts)
  else write.push(...receipts)
  return { write, keep }
}

/**
 * True when a direct run of message `runId` on an item with `meta` would write anything before
 * its commit (settlePending's writes, or a spilled PENDING segment's): such a run must start
 * from the item as it stands, not as this host remembers it (recent-items.ts), or it would write
 * again what a later commit elsewhere has taken out (a cancelled timer, a replayed letter's end).
 */
export function writesBeforeCommit(meta: InstanceMeta, runId: string): boolean {
  for (const segment of meta.outbox ?? []) {
    if (segment.lane !== PENDING) continue
    if (segment.spilled !== undefined || settlePending(segment.entries, runId).write.length !== 0) return true
  }
  return false
}

/** The receipt entries of message `id` waiting in an instance's item (those in a spilled segment are not read). */
export function receiptsIn(item: StoredInstance | undefined, id: string): ReceiptRecord[] {
  if (item?.meta === undefined) return []
  const out: ReceiptRecord[] = []
  for (const segment of decodeMeta(item.meta).outbox ?? []) {
    if (segment.lane !== PENDING) continue
    for (const e of segment.entries) if (e.kind === 'receipt' && e.record.id === id) out.push(e.record)
  }
  return out
}

/**
 * A message's receipt as the journal has it, with the entries that wait in its instance's item
 * when it was asked by Invoke and the journal has no final entry yet: one read of the item then.
 * Not in the item either: the run that took them out wrote them to the journal before its commit
 * (instance-run.ts), maybe after the first read, so the journal is read once more.
 */
export async function withPending(
  readJournal: () => Promise<StoredReceipt | undefined>,
  readItem: (type: string, key: string) => Promise<StoredInstance | undefined>,
): Promise<StoredReceipt | undefined> {
  const stored = await readJournal()
  if (stored === undefined || FINAL_STATUSES.has(stored.status) || !stored.history.some((e) => e.status === 'accepted' && e.reason === INVOKED)) return stored
  const waiting = receiptsIn(await readItem(stored.actor, stored.key), stored.id)
  return waiting.length !== 0 ? merged(stored, waiting) : readJournal()
}

/** `stored` with `waiting` added: one history in entry order, each entry once, the last giving status and reply. */
export function merged(stored: StoredReceipt | undefined, waiting: readonly ReceiptRecord[]): StoredReceipt | undefined {
  if (waiting.length === 0) return stored
  const byKey = new Map<string, ReceiptRecord>()
  const { actor, key } = waiting[0]!
  for (const entry of stored?.history ?? []) byKey.set(receiptEntryKey({ id: waiting[0]!.id, actor, key, entry, expiresAt: 0 }), { id: waiting[0]!.id, actor, key, entry, expiresAt: 0 })
  for (const record of waiting) byKey.set(receiptEntryKey(record), record)
  const all = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r)
  const receipt = assembleReceipt(waiting[0]!.id, all)!
  if (receipt.trace === undefined && stored?.trace !== undefined) receipt.trace = { ...stored.trace }
  if (receipt.earlier === undefined && stored?.earlier !== undefined) receipt.earlier = stored.earlier
  return receipt
}

/**
 * Takes out of an item's PENDING segments the dead letter and the receipt entries of message `id`,
 * which a replay of that letter makes stale: placed later, they would put the letter back (to be
 * replayed twice) and end the new run's receipt. True when it took anything. A spilled segment is
 * not read here: it is marked, and its reader leaves them out (outbox-overflow.ts).
 */
export function dropPendingOf(meta: InstanceMeta, id: string): boolean {
  let dropped = false
  for (const segment of meta.outbox ?? []) {
    if (segment.lane !== PENDING) continue
    if (segment.spilled !== undefined) {
      const marked = segment.spilled.dropped ?? []
      if (!marked.includes(id)) {
        segment.spilled = { ...segment.spilled, dropped: [...marked, id] }
        dropped = true
      }
      continue
    }
    const left = segment.entries.filter((e) => !isEndOf(e, id))
    if (left.length === segment.entries.length) continue
    segment.entries = left
    dropped = true
  }
  if (dropped) {
    const outbox = meta.outbox!.filter((s) => s.spilled !== undefined || s.entries.length !== 0)
    if (outbox.length !== 0) meta.outbox = outbox
    else delete meta.outbox
  }
  return dropped
}
