// The history a replayed dead letter's receipt keeps of its runs before (lib/aws/dead-letter-replay.ts):
// it rides on one receipt item with the new run's first entry, so however often the letter is
// replayed and however long its errors, it stays small enough to be written.
import t from 'tap'
import { replayedEntry } from '../../lib/aws/dead-letter-replay.js'
import type { ReceiptEntry } from '../../lib/core/receipt.js'
import type { ReceiptRecord, StoredReceipt } from '../../lib/store/index.js'

const accepted: ReceiptRecord = { id: 'm', actor: 'a', key: 'k', entry: { status: 'accepted', at: 10, attempt: 0 }, expiresAt: 100 }

function before(history: ReceiptEntry[], earlier?: ReceiptEntry[]): StoredReceipt {
  return { id: 'm' as never, actor: 'a', key: 'k', status: history.at(-1)!.status, attempts: history.at(-1)!.attempt, history, ...(earlier ? { earlier } : {}) } as StoredReceipt
}

t.test('the runs before are kept, oldest first, the replay saying it is one', async (t) => {
  const history: ReceiptEntry[] = [
    { status: 'accepted', at: 1, attempt: 0 },
    { status: 'dead', at: 2, attempt: 3, reason: 'boom' },
  ]
  const got = replayedEntry(accepted, before(history))
  t.equal(got.entry.reason, 'replayed')
  t.same(got.earlier, history)
})

t.test('a letter replayed again and again with errors of 90 KB keeps a history that fits an item', async (t) => {
  let receipt: StoredReceipt | undefined
  for (let replay = 0; replay < 20; replay++) {
    const history: ReceiptEntry[] = [
      { status: 'accepted', at: replay * 10, attempt: 0, reason: 'replayed' },
      { status: 'dead', at: replay * 10 + 1, attempt: 1, reason: `[E${replay}] ${'x'.repeat(90_000)}` },
    ]
    const entry = replayedEntry(accepted, receipt === undefined ? before(history) : before(history, receipt.earlier))
    receipt = before(history, entry.earlier)
    const bytes = Buffer.byteLength(JSON.stringify(entry))
    if (bytes > 40 * 1024) t.fail(`replay ${replay}: ${bytes} bytes`)
  }
  const earlier = receipt!.earlier!
  t.ok(earlier.length >= 2, `it keeps the newest runs (${earlier.length} entries)`)
  t.match(earlier.at(-1)!.reason, /^\[E19\] x+…$/, 'the newest death, its reason cut short')
  t.ok(earlier.every((e) => (e.reason?.length ?? 0) <= 1_001), 'every reason cut to 1,000 characters')
})
