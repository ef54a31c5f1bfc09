// What a host's direct runs remember of the items they left (lib/hosts/durable/recent-items.ts):
// an item is run on without a read only while a read found its type unpaused within
// PAUSE_NOTICE_MS, once, and not for a while after it lost a commit. Pure: no server.
import t from 'tap'
import { PAUSE_NOTICE_MS, RecentItems } from '../../lib/hosts/durable/recent-items.js'
import type { StoredInstance } from '../../lib/store/index.js'

const item = (version: number, state = '{"json":1}'): StoredInstance => ({ state, version, updatedAt: 0, meta: '{}' })

function recent() {
  let now = 1_000
  const items = new RecentItems(() => now)
  return { items, at: (ms: number) => (now = ms), now: () => now }
}

t.test('an item is taken only within PAUSE_NOTICE_MS of a read that found its type unpaused, and only once', async (t) => {
  const { items, at } = recent()
  items.keep('c', 'k', item(1))
  t.equal(items.take('c', 'k'), undefined, 'no read of the pause yet: read the item')
  items.keep('c', 'k', item(2))
  items.readPause('c', false, 1_000)
  at(1_000 + PAUSE_NOTICE_MS - 1)
  t.equal(items.take('c', 'k')?.version, 2, 'within the notice')
  t.equal(items.take('c', 'k'), undefined, 'taken: a second run reads')
  items.keep('c', 'k', item(3))
  at(1_000 + PAUSE_NOTICE_MS)
  t.equal(items.take('c', 'k'), undefined, 'the read of the pause is too old')
  items.keep('c', 'k', item(4))
  items.readPause('c', false, 2_000)
  items.readPause('c', false, 500)
  t.equal(items.take('c', 'k')?.version, 4, 'an older read does not put back the time of a newer one')
  items.keep('c', 'k', item(5))
  items.readPause('c', true, 2_100)
  t.equal(items.take('c', 'k'), undefined, 'a read that found the type paused ends the notice')
  items.keep('c', 'other', item(1))
  items.readPause('d', false, 2_100)
  t.equal(items.take('c', 'other'), undefined, 'the notice is per type')
})

t.test('a key whose remembered item lost its commit is not remembered for half a minute; another run refreshes only what is remembered', async (t) => {
  const { items, at } = recent()
  items.readPause('c', false, 1_000)
  items.keep('c', 'k', item(1))
  items.lost('c', 'k')
  t.equal(items.take('c', 'k'), undefined, 'forgotten when it lost')
  items.keep('c', 'k', item(2))
  t.equal(items.take('c', 'k'), undefined, 'and not kept while other hosts write it')
  at(31_000)
  items.readPause('c', false, 31_000)
  items.keep('c', 'k', item(3))
  t.equal(items.take('c', 'k')?.version, 3, 'kept again after it')
  items.refresh('c', 'n', item(1))
  t.equal(items.take('c', 'n'), undefined, 'a stream run does not add a key no direct run left')
  items.keep('c', 'k', item(4))
  items.refresh('c', 'k', item(5))
  t.equal(items.take('c', 'k')?.version, 5, 'it replaces one a direct run left')
  items.keep('c', 'k', item(6))
  items.refresh('c', 'k', item(5))
  t.equal(items.take('c', 'k')?.version, 6, 'but not with an older one')
})

t.test('what is remembered is bounded: a large item is not kept, and the least recently kept go first', async (t) => {
  const { items } = recent()
  items.readPause('c', false, 1_000)
  items.keep('c', 'big', item(1, 'x'.repeat(64 * 1024 + 1)))
  t.equal(items.take('c', 'big'), undefined, 'larger than 64 KB')
  for (let i = 0; i <= 1_000; i++) items.keep('c', `k${i}`, item(1))
  t.equal(items.take('c', 'k0'), undefined, 'the 1,001st pushed out the first')
  t.equal(items.take('c', 'k1')?.version, 1)
  t.equal(items.take('c', 'k1000')?.version, 1)
  const { items: fewer } = recent()
  fewer.readPause('c', false, 1_000)
  const state = 'x'.repeat(60 * 1024)
  // 300 items, far fewer than 1,000, of 18 MB in all.
  for (let i = 0; i < 300; i++) fewer.keep('c', `s${i}`, item(1, state))
  t.equal(fewer.take('c', 's26'), undefined, '16 MB of items in all at most: the first 27 went')
  t.equal(fewer.take('c', 's27')?.version, 1, 'the 273 kept last fit in 16 MB')
  t.equal(fewer.take('c', 's299')?.version, 1)
})
