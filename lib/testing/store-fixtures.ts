// What the store conformance cases share: the stores a case is given, the records they write,
// and the keys and sizes that break naive implementations.
import type { Stores, StoredInstance, TimerRecord } from '../store/index.js'
import type { StoreCase } from './conformance-assert.js'

/** Registers one case: a subtest given fresh, empty stores, closed after it. */
export type WithStores = StoreCase<Stores>

export const CONFLICT = { name: 'StoreConflictError', code: 'TROUPE_STORE_CONFLICT' }

/**
 * Keys and ids that break naive key schemes: separators, escapes, unicode, blanks, and the
 * longest key the runtime allows (1,024 characters, here up to 3 KB of UTF-8). Actor types are
 * names the runtime has validated (letters, digits, `_`, `-`, `.`), so they carry no separators.
 */
export const ODD_KEYS: readonly string[] = [
  '',
  '#',
  '##',
  'a#b',
  '%23',
  'state#x#y',
  ' leading and trailing ',
  'line\nbreak\ttab',
  'ünïcödé/日本語/ключ/🙂',
  '\u0000nul',
  'k'.repeat(1024),
  'é'.repeat(1024), // 2 KB of UTF-8
  '日'.repeat(1024), // 3 KB of UTF-8
]

export const instance = (version: number, state: unknown = { version }): StoredInstance => ({
  state: JSON.stringify(state),
  version,
  updatedAt: 1_700_000_000_000 + version,
})

export const timer = (id: string, dueAt: number, extra: Partial<TimerRecord> = {}): TimerRecord => ({
  id,
  target: 'reminder',
  body: JSON.stringify({ json: { id } }),
  dueAt,
  correlationId: `c-${id.slice(0, 20)}`,
  fired: 0,
  ...extra,
})

/** A string of about `bytes` UTF-8 bytes, mixing one-, two-, three- and four-byte characters. */
export function bigText(bytes: number): string {
  const unit = 'abc-é-日-🙂-' // 15 bytes
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)))
}
