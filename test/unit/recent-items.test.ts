// What a host's direct runs remember of the items they left (lib/hosts/durable/recent-items.ts):
// an item is run on without a read only within NOTICE_MS, on both clocks, of the moment it was
// known from and of a read that found its type unpaused; once; and not for a while after it lost
// a commit. Pure: no server.
import t from 'tap'
import { NOTICE_MS, RecentItems, type Moment } from '../../lib/hosts/durable/recent-items.js'
import type { StoredInstance } from '../../lib/store/index.js'

const item = (version: number, state = '{"json":1}'): StoredInstance => ({ state, version, updatedAt: 0, meta: '{}' })

/** Two clocks the test moves: `at(ms)` sets both, `wall(ms)` the wall clock alone. */
function recent() {
  let mono = 1_000
  let wall = 1_000_000
  const items = new RecentItems(
    () => mono,
    () => wall,
  )
  const now = (): Moment => ({ mono, wall })
  return {
    items,
    now,
    at: (ms: number) => {
      wall += ms - mono
      mono = ms
    },
    wall: (ms: number) => (wall = ms),
  }
}

t.test('an item is taken only within NOTICE_MS of the moment it was known from and of a read that found its type unpaused, and only once', async (t) => {
  const { items, at, now } = recent()
  items.keep('c', 'k', item(1), now())
  t.equal(items.take('c', 'k'), undefined, 'no read of the pause yet: read the item')
  items.readPause('c', false, now())
  items.keep('c', 'k', item(2), now())
  at(1_000 + NOTICE_MS - 1)
  t.equal(items.take('c', 'k')?.item.version, 2, 'within the notice')
  t.equal(items.take('c', 'k'), undefined, 'taken: a second run reads')
  items.readPause('c', false, now())
  items.keep('c', 'k', item(3), { mono: 0, wall: 999_000 })
  t.equal(items.take('c', 'k'), undefined, 'the item is known from too long ago, however recent the read of the pause')
  items.keep('c', 'k', item(4), now())
  at(2_000 + NOTICE_MS)
  items.keep('c', 'k', item(5), now())
  t.equal(items.take('c', 'k'), undefined, 'the read of the pause is too old, however recent the item')
  const sent = now()
  items.readPause('c', false, sent)
  items.readPause('c', false, { mono: sent.mono - 500, wall: sent.wall - 500 })
  items.keep('c', 'k', item(6), now())
  at(sent.mono + NOTICE_MS - 1)
  t.equal(items.take('c', 'k')?.item.version, 6, 'an older read does not put back the time of a newer one')
  items.keep('c', 'k', item(7), now())
  items.readPause('c', true, now())
  t.equal(items.take('c', 'k'), undefined, 'a read that found the type paused ends the notice')
  items.readPause('d', false, now())
  items.keep('c', 'other', item(1), now())
  t.equal(items.take('c', 'other'), undefined, 'the notice is per type')
})

t.test('recent on both clocks: a frozen environment whose monotonic clock stood still, or a wall clock set back, is not', async (t) => {
  const { items, now, wall } = recent()
  items.readPause('c', false, now())
  items.keep('c', 'k', item(1), now())
  wall(1_000_000 + 10 * 60_000)
  t.equal(items.take('c', 'k'), undefined, 'ten minutes on the wall clock, none on the monotonic one')
  wall(1_000_000)
  items.readPause('c', false, now())
  items.keep('c', 'k', item(2), now())
  wall(1_000_000 - 1)
  t.equal(items.take('c', 'k'), undefined, 'the wall clock set back')
})

t.test('a key whose remembered item lost its commit is not remembered for half a minute; another run of the key here forgets it', async (t) => {
  const { items, at, now } = recent()
  items.readPause('c', false, now())
  items.keep('c', 'k', item(1), now())
  items.lost('c', 'k')
  t.equal(items.take('c', 'k'), undefined, 'forgotten when it lost')
  items.keep('c', 'k', item(2), now())
  t.equal(items.take('c', 'k'), undefined, 'and not kept while other hosts write it')
  at(31_001)
  items.readPause('c', false, now())
  items.keep('c', 'k', item(3), now())
  t.equal(items.take('c', 'k')?.item.version, 3, 'kept again after it')
  items.keep('c', 'k', item(4), now())
  items.drop('c', 'k')
  t.equal(items.take('c', 'k'), undefined, 'a stream batch or a tick ran it here')
})

t.test('what is remembered is bounded: a large item is not kept, and the least recently kept go first', async (t) => {
  const { items, now } = recent()
  items.readPause('c', false, now())
  items.keep('c', 'big', item(1, 'x'.repeat(64 * 1024 + 1)), now())
  t.equal(items.take('c', 'big'), undefined, 'larger than 64 KB')
  for (let i = 0; i <= 1_000; i++) items.keep('c', `k${i}`, item(1), now())
  t.equal(items.take('c', 'k0'), undefined, 'the 1,001st pushed out the first')
  t.equal(items.take('c', 'k1')?.item.version, 1)
  t.equal(items.take('c', 'k1000')?.item.version, 1)
  const { items: fewer, now: fewerNow } = recent()
  fewer.readPause('c', false, fewerNow())
  const state = 'x'.repeat(60 * 1024)
  // 300 items, far fewer than 1,000, of 18 MB in all.
  for (let i = 0; i < 300; i++) fewer.keep('c', `s${i}`, item(1, state), fewerNow())
  t.equal(fewer.take('c', 's26'), undefined, '16 MB of items in all at most: the first 27 went')
  t.equal(fewer.take('c', 's27')?.item.version, 1, 'the 273 kept last fit in 16 MB')
  t.equal(fewer.take('c', 's299')?.item.version, 1)
})
