// The conformance suite of the side-effect port (`SideEffectStore` in lib/store/index.ts), run the
// same way against every implementation (memory, DynamoDB, and any a user writes):
//
//   sideEffectConformance(t, async () => new MemorySideEffects())
//
// The factory is called once per subtest and must return a store with no records.
import type { SideEffectRecord, SideEffectStore } from '../store/index.js'
import { storeCase, type Assert } from './conformance-assert.js'

export type SideEffectsFactory = () => Promise<SideEffectStore & { close?(): Promise<void> }>

const NOW = 1_000_000

function record(over: Partial<SideEffectRecord> = {}): SideEffectRecord {
  return { messageId: 'm1', name: 'charge', actor: 'shop.pay', status: 'done', result: '{"json":"ch_1"}', at: NOW, expiresAt: NOW + 60_000, ...over }
}

export function sideEffectConformance(t: Assert, factory: SideEffectsFactory): void {
  const withStore = storeCase<SideEffectStore>(t, factory)

  withStore('a result put is read back whole, by message and name', async (t, store) => {
    t.equal(await store.get('m1', 'charge', NOW), undefined, 'nothing before')
    await store.put(record())
    t.strictSame(await store.get('m1', 'charge', NOW), record())
    t.equal(await store.get('m1', 'email', NOW), undefined, 'another name of the message')
    t.equal(await store.get('m2', 'charge', NOW), undefined, 'the name of another message')
  })

  withStore("a record's instance key and the reason its result was not kept are read back, an empty key included", async (t, store) => {
    await store.put(record({ key: 'k1' }))
    t.strictSame(await store.get('m1', 'charge', NOW), record({ key: 'k1' }))
    const lost = record({ name: 'email', key: '', unrecorded: '[TROUPE_NOT_SERIALIZABLE] once result of shop.pay has a class instance at result' })
    delete lost.result
    await store.put(lost)
    t.strictSame(await store.get('m1', 'email', NOW), lost)
  })

  withStore('a second put overwrites the first', async (t, store) => {
    await store.put(record({ result: '{"json":"first"}' }))
    await store.put(record({ result: '{"json":"second"}', at: NOW + 5 }))
    t.strictSame(await store.get('m1', 'charge', NOW + 5), record({ result: '{"json":"second"}', at: NOW + 5 }))
  })

  withStore('a claim writes where nothing is, and returns what is there otherwise', async (t, store) => {
    const started = record({ status: 'started', result: undefined })
    delete started.result
    t.equal(await store.claim(started, NOW), undefined, 'the first claim is written')
    t.strictSame(await store.get('m1', 'charge', NOW), started)
    t.strictSame(await store.claim({ ...started, at: NOW + 1 }, NOW + 1), started, 'a second claim gets the first, and writes nothing')
    t.strictSame(await store.get('m1', 'charge', NOW + 1), started, 'the first stands')
    await store.put(record({ at: NOW + 2 }))
    t.strictSame(await store.claim({ ...started, at: NOW + 3 }, NOW + 3), record({ at: NOW + 2 }), 'a claim over a result gets the result')
  })

  withStore('a record past its expiry is gone: not read, and a claim takes its place', async (t, store) => {
    await store.put(record({ expiresAt: NOW + 10 }))
    t.ok(await store.get('m1', 'charge', NOW + 9), 'live until then')
    t.equal(await store.get('m1', 'charge', NOW + 10), undefined, 'gone at its expiry')
    const started = record({ status: 'started', at: NOW + 10, expiresAt: NOW + 100 })
    delete started.result
    t.equal(await store.claim(started, NOW + 10), undefined, 'a claim over an expired record is written')
    t.strictSame(await store.get('m1', 'charge', NOW + 10), started)
  })

  withStore('a dead message\'s records are pinned past their expiry, and unpinned by the replay of its letter alone', async (t, store) => {
    const longId = `id-${'é'.repeat(1_200)}`
    await store.put(record({ expiresAt: NOW + 10 }))
    await store.put(record({ name: 'email', expiresAt: NOW + 10 }))
    await store.put(record({ messageId: 'm2', expiresAt: NOW + 10 }))
    await store.put(record({ messageId: longId, expiresAt: NOW + 10 }))
    await store.pin('m1', NOW + 5)
    await store.pin(longId, NOW + 5)
    await store.pin('m3', NOW + 5) // a message with none: nothing to do
    const late = NOW + 30 * 24 * 60 * 60_000
    t.match(await store.get('m1', 'charge', late), { messageId: 'm1', name: 'charge', pinnedBy: NOW + 5 }, 'pinned: read long past its expiry')
    t.match(await store.get('m1', 'email', late), { name: 'email', pinnedBy: NOW + 5 }, 'every name of the message')
    t.ok(await store.get(longId, 'charge', late), 'a long id too')
    t.equal(await store.get('m2', 'charge', NOW + 10), undefined, 'another message is left to expire')
    const started = record({ status: 'started', at: late, expiresAt: late + 100 })
    delete started.result
    t.match(await store.claim(started, late), { status: 'done', result: '{"json":"ch_1"}' }, 'a claim finds the pinned record')

    // The letter replayed, then the message died again (a later letter) and one name was pinned by it.
    await store.put(record({ name: 'sms', at: NOW + 20, expiresAt: NOW + 100 }))
    await store.pin('m1', NOW + 50)
    await store.pin('m1', NOW + 5) // a late copy of the first letter's write: the later pin stands
    await store.unpin('m1', NOW + 5, NOW + 1_000) // the first replay's unpin, late: the later death's pin stands
    t.match(await store.get('m1', 'charge', late), { pinnedBy: NOW + 50 })
    await store.unpin('m1', NOW + 50, NOW + 1_000)
    const unpinned = await store.get('m1', 'charge', NOW + 999)
    t.equal(unpinned?.expiresAt, NOW + 1_000, 'unpinned: it expires again')
    t.equal(unpinned?.pinnedBy, undefined)
    t.equal(await store.get('m1', 'sms', NOW + 1_000), undefined, 'and is gone at that expiry')
  })

  withStore('ids and names of any length and alphabet stay apart', async (t, store) => {
    const longId = `id-${'é'.repeat(1_200)}`
    const longName = `n-${'x'.repeat(3_000)}`
    const pairs: [string, string][] = [
      [longId, 'a'],
      [longId, longName],
      ['1:a', 'b'],
      ['1', ':ab'],
      ['m 1', 'x'],
      ['m', '1 x'],
    ]
    for (const [i, [m, n]] of pairs.entries()) await store.put(record({ messageId: m, name: n, result: `{"json":${i}}` }))
    for (const [i, [m, n]] of pairs.entries()) t.equal((await store.get(m, n, NOW))?.result, `{"json":${i}}`, `${m.slice(0, 12)}… / ${n.slice(0, 12)}…`)
  })
}
