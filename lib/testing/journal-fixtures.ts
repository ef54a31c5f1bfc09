// What the journal conformance cases share: the journal a case is given, and the receipt
// entries, dead letters and ids they write.
import type { CorrelationId, MessageId } from '../core/ids.js'
import { makeEnvelope } from '../core/envelope.js'
import type { MessageStatus } from '../core/receipt.js'
import type { JournalStore, ReceiptRecord } from '../store/index.js'
import type { DeadLetter, ErrorRecord } from '../core/dead-letter.js'
import type { StoreCase } from './conformance-assert.js'
import { ODD_KEYS } from './store-fixtures.js'

/** Registers one case: a subtest given a fresh, empty journal, closed after it. */
export type WithJournal = StoreCase<JournalStore>

/** A time the entries below live until; reads at `NOW` see them. */
export const NOW = 1_700_000_000_000
const LATER = NOW + 86_400_000
export const MiB = 1024 * 1024

/** Message ids that break naive key schemes: the store suite's odd keys, and 1,000 characters of each width. */
export const ODD_IDS: readonly string[] = [
  ...ODD_KEYS,
  '%',
  'receipt#x',
  'deadletters',
  'e#000001#1#running',
  'x'.repeat(1000),
  'ü'.repeat(1000),
  '日#%'.repeat(333) + '🙂',
]

export const entry = (
  id: string,
  status: MessageStatus,
  attempt: number,
  extra: { at?: number; reason?: string; reply?: string; error?: ErrorRecord; expiresAt?: number; actor?: string; key?: string } = {},
): ReceiptRecord => {
  const record: ReceiptRecord = {
    id,
    actor: extra.actor ?? 'pageStats',
    key: extra.key ?? 'k',
    entry: { status, at: extra.at ?? NOW - 1_000 + attempt * 10 + rank(status), attempt },
    expiresAt: extra.expiresAt ?? LATER,
  }
  if (extra.reason !== undefined) record.entry.reason = extra.reason
  if (extra.reply !== undefined) record.reply = extra.reply
  if (extra.error !== undefined) record.error = extra.error
  return record
}

function rank(status: MessageStatus): number {
  return { accepted: 0, paused: 0.5, throttled: 0.6, running: 1, retrying: 2, done: 3, filtered: 3, dead: 3 }[status]
}

/** A message's whole life: accepted, two failed attempts, then done with a reply. */
export const lifecycle = (id: string, extra: Parameters<typeof entry>[3] = {}): ReceiptRecord[] => [
  entry(id, 'accepted', 0, extra),
  entry(id, 'running', 1, extra),
  entry(id, 'retrying', 1, { ...extra, reason: 'Error: boom' }),
  entry(id, 'running', 2, extra),
  entry(id, 'retrying', 2, { ...extra, reason: 'Error: boom again' }),
  entry(id, 'running', 3, extra),
  entry(id, 'done', 3, { ...extra, reply: '{"json":{"ok":true}}' }),
]

export const BOOM: ErrorRecord = { name: 'TerminalError', message: '[TROUPE_TERMINAL] no such page', code: 'TROUPE_TERMINAL', stack: 'TerminalError: no such page\n    at receive (page.ts:1:1)' }

export const letter = (id: string, type = 'pageStats', deadAt = NOW, body: unknown = { path: '/home', n: 1 }): DeadLetter => ({
  envelope: makeEnvelope({
    id: id as MessageId,
    type,
    key: 'k',
    body,
    correlationId: 'corr' as CorrelationId,
    causationId: 'cause' as MessageId,
    attempt: 3,
    sentAt: deadAt - 5_000,
  }),
  error: BOOM,
  attempts: [1, 2, 3].map((attempt) => ({ attempt, startedAt: deadAt - 4_000 + attempt, endedAt: deadAt - 3_000 + attempt, error: { name: 'Error', message: `attempt ${attempt} failed` } })),
  deadAt,
})
