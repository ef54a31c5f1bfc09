// The store conformance cases of the state store: reads and writes, optimistic versions and
// their conflicts, odd keys, large states and (for a store that has one) the item limit.
import type { StoredInstance } from '../store/index.js'
import { bigText, CONFLICT, instance, ODD_KEYS, type WithStores } from './store-fixtures.js'

/** `maxItemBytes`: the store's item limit, when it has one (ConformanceOptions). */
export function stateCases(withStores: WithStores, maxItemBytes: number | undefined): void {
  withStores('state: nothing is stored until it is put', async (t, { state }) => {
    t.equal(await state.get('counter', 'a'), undefined)
    await state.delete('counter', 'a') // deleting what is not there is fine
    t.equal(await state.get('counter', 'a'), undefined)
  })

  withStores('state: a put is read back exactly', async (t, { state }) => {
    const value = instance(1, { views: 3, when: 'now' })
    await state.put('counter', 'a', value, undefined)
    t.strictSame(await state.get('counter', 'a'), value)
  })

  withStores('state: the host’s bookkeeping and an expiry (whole seconds) are read back with the state', async (t, { state }) => {
    const value = { ...instance(1, undefined), meta: '{"json":{"marks":{}}}', expiresAt: 1_800_000_000_000 }
    await state.put('counter', 'gone', value, undefined)
    t.strictSame(await state.get('counter', 'gone'), value)
  })

  withStores('state: the version of the state’s shape is read back with it, and absent when none was given', async (t, { state }) => {
    const value = { ...instance(1, { total: 3 }), stateVersion: 4 }
    await state.put('counter', 'v', value, undefined)
    t.strictSame(await state.get('counter', 'v'), value)
    const next = instance(2, { total: 4 })
    await state.put('counter', 'v', next, 1)
    t.strictSame(await state.get('counter', 'v'), next, 'a put without one leaves none (version 1)')
  })

  withStores('state: a put with the current version replaces the value', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    await state.put('counter', 'a', instance(2), 1)
    await state.put('counter', 'a', instance(3), 2)
    t.strictSame(await state.get('counter', 'a'), instance(3))
  })

  withStores('state: a create over an existing instance conflicts and changes nothing', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    await t.rejects(async () => state.put('counter', 'a', instance(1, 'other'), undefined), CONFLICT)
    t.strictSame(await state.get('counter', 'a'), instance(1))
  })

  withStores('state: a put with a stale or future version conflicts and changes nothing', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    await state.put('counter', 'a', instance(2), 1)
    await t.rejects(async () => state.put('counter', 'a', instance(2, 'stale'), 1), CONFLICT)
    await t.rejects(async () => state.put('counter', 'a', instance(8, 'future'), 7), CONFLICT)
    t.strictSame(await state.get('counter', 'a'), instance(2))
  })

  withStores('state: a put expecting a version and a time conflicts with an item of that version written at another time', async (t, { state }) => {
    await state.put('counter', 'life', { ...instance(1), updatedAt: 1_000 }, undefined)
    await state.delete('counter', 'life')
    await state.put('counter', 'life', { ...instance(1, 'again'), updatedAt: 2_000 }, undefined)
    await t.rejects(async () => state.put('counter', 'life', { ...instance(2, 'stale'), updatedAt: 3_000 }, 1, 1_000), CONFLICT)
    t.strictSame(await state.get('counter', 'life'), { ...instance(1, 'again'), updatedAt: 2_000 }, 'the item made again is left')
    await state.put('counter', 'life', { ...instance(2, 'next'), updatedAt: 3_000 }, 1, 2_000)
    t.strictSame(await state.get('counter', 'life'), { ...instance(2, 'next'), updatedAt: 3_000 }, 'with its own time it is written')
  })

  withStores('state: a put expecting a version where nothing is stored conflicts', async (t, { state }) => {
    await t.rejects(async () => state.put('counter', 'ghost', instance(2), 1), CONFLICT)
    t.equal(await state.get('counter', 'ghost'), undefined)
  })

  withStores('state: the conflict names the instance and the version expected', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    const err = await Promise.resolve()
      .then(() => state.put('counter', 'a', instance(5), 4))
      .then(
        () => undefined,
        (e: unknown) => e as Error & { item?: string; expectedVersion?: number },
      )
    t.ok(err, 'it threw')
    t.equal(err?.item, 'counter#a')
    t.equal(err?.expectedVersion, 4)
  })

  withStores('state: of two writers racing from one version, exactly one wins', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    const results = await Promise.allSettled(
      ['left', 'right', 'middle'].map(async (who) => state.put('counter', 'a', instance(2, who), 1)),
    )
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one write landed')
    for (const r of results) if (r.status === 'rejected') t.match(r.reason, CONFLICT)
    t.equal((await state.get('counter', 'a'))?.version, 2)
  })

  withStores('state: of two creators racing, exactly one wins', async (t, { state }) => {
    const results = await Promise.allSettled(
      ['left', 'right'].map(async (who) => state.put('counter', 'new', instance(1, who), undefined)),
    )
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  })

  withStores('state: delete removes the instance, and it can be created again', async (t, { state }) => {
    await state.put('counter', 'a', instance(1), undefined)
    await state.put('counter', 'b', instance(1), undefined)
    await state.delete('counter', 'a')
    t.equal(await state.get('counter', 'a'), undefined)
    t.strictSame(await state.get('counter', 'b'), instance(1), 'the neighbour stays')
    await state.put('counter', 'a', instance(1, 'again'), undefined)
    t.strictSame(await state.get('counter', 'a'), instance(1, 'again'))
  })

  withStores('state: type and key together name an instance; separators in keys never collide', async (t, { state }) => {
    const pairs: [string, string][] = [
      ['a', 'b#c'],
      ['a.b', 'c'],
      ['a', 'b%23c'],
      ['a', '#b'],
      ['a', 'b'],
      ['a', 'b#'],
      ['a-b', 'c'],
      ['counter', 'a'],
      ['other', 'a'],
      ['a', 'state'],
    ]
    for (const [i, [type, key]] of pairs.entries()) await state.put(type, key, instance(1, i), undefined)
    for (const [i, [type, key]] of pairs.entries()) t.strictSame(await state.get(type, key), instance(1, i), `${type} / ${key}`)
  })

  withStores('state: keys with odd characters, unicode and kilobytes of length work', async (t, { state }) => {
    for (const [i, key] of ODD_KEYS.entries()) await state.put('odd', key, instance(1, i), undefined)
    for (const [i, key] of ODD_KEYS.entries()) {
      const label = `key #${i} (${key.length} characters)`
      t.strictSame(await state.get('odd', key), instance(1, i), label)
      await state.put('odd', key, instance(2, i), 1)
      await t.rejects(async () => state.put('odd', key, instance(2, i), 1), CONFLICT, `${label} conflicts`)
    }
    for (const key of ODD_KEYS) await state.delete('odd', key)
    for (const key of ODD_KEYS) t.equal(await state.get('odd', key), undefined)
  })

  withStores('state: every valid type name works, up to 128 characters', async (t, { state }) => {
    const types = ['pageStats', 'a', 'a.b-c_D9', 'x'.repeat(128)]
    for (const [i, type] of types.entries()) await state.put(type, 'k', instance(1, i), undefined)
    for (const [i, type] of types.entries()) t.strictSame(await state.get(type, 'k'), instance(1, i))
  })

  withStores('state: a large state (300 KB of mixed unicode) is read back exactly', async (t, { state }) => {
    const value: StoredInstance = { state: JSON.stringify({ text: bigText(300 * 1024) }), version: 1, updatedAt: 1 }
    await state.put('big', 'a', value, undefined)
    const back = await state.get('big', 'a')
    t.equal(back?.state.length, value.state.length)
    t.ok(back?.state === value.state, 'same text')
  })

  if (maxItemBytes !== undefined) {
    const limit = maxItemBytes
    withStores('state: a state over the item limit is refused by name and size, and nothing is written', async (t, { state }) => {
      const value: StoredInstance = { state: bigText(limit + 10_000), version: 1, updatedAt: 1 }
      await t.rejects(async () => state.put('pageStats', '/home', value, undefined), {
        code: 'TROUPE_STATE_TOO_LARGE',
        message: /pageStats#\/home.* KB/,
      })
      t.equal(await state.get('pageStats', '/home'), undefined)
      // the same for an update: the old value stays
      await state.put('pageStats', '/home', instance(1), undefined)
      await t.rejects(async () => state.put('pageStats', '/home', { ...value, version: 2 }, 1), { code: 'TROUPE_STATE_TOO_LARGE' })
      t.strictSame(await state.get('pageStats', '/home'), instance(1))
    })
  }
}
