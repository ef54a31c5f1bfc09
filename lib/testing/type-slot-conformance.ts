// The conformance suite of the type-slot port (`TypeSlotStore` in lib/store/index.ts), run the
// same way against every implementation (memory, DynamoDB, and any a user writes):
//
//   typeSlotConformance(t, async () => new MemoryTypeSlots())
//
// The factory is called once per subtest and must return a store with no slots.
import type { SlotLease, TypeSlots, TypeSlotStore } from '../store/index.js'
import { storeCase, type Assert } from './conformance-assert.js'

export type TypeSlotsFactory = () => Promise<TypeSlotStore & { close?(): Promise<void> }>

/** The leases of `slots` by holder, for comparing without caring about their order. */
function byHolder(slots: TypeSlots | undefined): Record<string, [count: number, expiresAt: number]> {
  const out: Record<string, [number, number]> = {}
  for (const l of slots?.leases ?? []) out[l.holder] = [l.count, l.expiresAt]
  return out
}

const lease = (holder: string, count: number, expiresAt = 10_000): SlotLease => ({ holder, count, expiresAt })

export function typeSlotConformance(t: Assert, factory: TypeSlotsFactory): void {
  const withStore = storeCase<TypeSlotStore>(t, factory)

  withStore('a type without slots: the first take makes them, up to the limit', async (t, store) => {
    t.equal(await store.read('a'), undefined)
    t.equal((await store.take('a', lease('h1', 4), 3, [])).taken, false, 'more than the limit is never free')
    t.equal(await store.read('a'), undefined, 'and nothing was made')
    const first = await store.take('a', lease('h1', 2), 3, [])
    t.equal(first.taken, true)
    if (first.slots !== undefined) t.strictSame(byHolder(first.slots), { h1: [2, 10_000] }, 'the slots after the take, when the store gives them')
    const read = await store.read('a')
    t.equal(read?.used, 2)
    t.equal(read?.limit, 3)
    t.strictSame(byHolder(read), { h1: [2, 10_000] })
  })

  withStore('take holds to the limit: a take that would pass it changes nothing', async (t, store) => {
    t.equal((await store.take('a', lease('h1', 2), 3, [])).taken, true)
    const refused = await store.take('a', lease('h2', 2), 3, [])
    t.equal(refused.taken, false, 'two more of three, with two held: refused')
    if (refused.slots !== undefined) t.strictSame(byHolder(refused.slots), { h1: [2, 10_000] }, 'the slots as they stood, when the store gives them')
    t.equal((await store.take('a', lease('h2', 1), 3, [])).taken, true, 'the last one is free')
    t.equal((await store.take('a', lease('h3', 1), 3, [])).taken, false, 'none is left')
    const read = await store.read('a')
    t.equal(read?.used, 3)
    t.strictSame(byHolder(read), { h1: [2, 10_000], h2: [1, 10_000] })
    t.equal((await store.take('a', lease('h1', 1), 5, [])).taken, false, 'a holder takes once: it holds a lease already')
  })

  withStore('release gives the slots back once; renew moves a held lease only', async (t, store) => {
    await store.take('a', lease('h1', 2), 2, [])
    t.equal(await store.renew('a', 'h1', 20_000), true)
    t.strictSame(byHolder(await store.read('a')), { h1: [2, 20_000] }, 'renewed')
    t.equal(await store.release('a', 'h1', 1), undefined, 'a release that names another count changes nothing')
    const after = await store.release('a', 'h1', 2)
    t.ok(after !== undefined, 'released')
    t.equal(after?.used, 0)
    t.strictSame(byHolder(after), {})
    t.equal(await store.release('a', 'h1', 2), undefined, 'a second release changes nothing')
    t.equal(await store.renew('a', 'h1', 30_000), false, 'nor does renewing a lease given back')
    t.equal((await store.read('a'))?.used, 0)
    t.equal((await store.take('a', lease('h2', 2), 2, [])).taken, true, 'the slots are free again')
  })

  withStore('reclaim: an expired lease is dropped only as it was read, in the same change as the take', async (t, store) => {
    await store.take('a', lease('dead', 2, 1_000), 3, [])
    await store.take('a', lease('live', 1, 9_000), 3, [])
    t.equal((await store.take('a', lease('new', 2), 3, [lease('dead', 2, 999)])).taken, false, 'a lease not as read (another expiry) is not reclaimed')
    t.equal((await store.take('a', lease('new', 2), 3, [lease('dead', 1, 1_000)])).taken, false, 'nor one of another count')
    t.strictSame(byHolder(await store.read('a')), { dead: [2, 1_000], live: [1, 9_000] }, 'nothing changed')
    t.equal((await store.take('a', lease('new', 2), 3, [lease('dead', 2, 1_000)])).taken, true, 'as read: reclaimed, and its slots taken')
    const read = await store.read('a')
    t.equal(read?.used, 3)
    t.strictSame(byHolder(read), { live: [1, 9_000], new: [2, 10_000] })
    t.equal(await store.renew('a', 'dead', 50_000), false, 'the reclaimed holder can no longer renew')
    t.equal(await store.release('a', 'dead', 2), undefined, 'nor release')
    t.equal((await store.read('a'))?.used, 3, 'which would have counted its slots twice')
  })

  withStore('a renewed lease is not reclaimed as it was read before', async (t, store) => {
    await store.take('a', lease('slow', 1, 1_000), 1, [])
    await store.renew('a', 'slow', 5_000)
    t.equal((await store.take('a', lease('new', 1), 1, [lease('slow', 1, 1_000)])).taken, false)
    t.strictSame(byHolder(await store.read('a')), { slow: [1, 5_000] })
  })

  withStore('takes at once are served one after the other: never more than the limit', async (t, store) => {
    const takes = await Promise.all(Array.from({ length: 12 }, (_, i) => store.take('a', lease(`h${i}`, 1 + (i % 2)), 5, [])))
    const taken = takes.map((r, i) => (r.taken ? 1 + (i % 2) : 0)).reduce((a, b) => a + b, 0)
    const read = await store.read('a')
    t.ok(taken <= 5, `${taken} slots taken of 5`)
    t.ok(taken >= 4, 'and the limit was used (a take is refused only when it would pass it)')
    t.equal(read?.used, taken, 'used is the sum of the leases')
    t.equal(Object.values(byHolder(read)).reduce((n, [c]) => n + c, 0), taken)
  })

  withStore('types have slots of their own', async (t, store) => {
    await store.take('a', lease('h1', 2), 2, [])
    t.equal((await store.take('b', lease('h1', 1), 1, [])).taken, true)
    t.equal((await store.read('a'))?.used, 2)
    t.strictSame(byHolder(await store.read('b')), { h1: [1, 10_000] })
  })
}
