// The memory stores (the embedded default) against the store conformance suite. No server. Once
// more with a timer store without the optional `advance`, as a store written before it: the
// runner moves its fired timers on by a read and a write (timer-runner.ts `moveOn`).
import t from 'tap'
import { memoryStores } from '../../lib/store/memory.js'
import { storeConformance } from '../../lib/testing/store-conformance.js'
import type { TimerStore } from '../../lib/store/index.js'

storeConformance(t, async () => memoryStores())

t.test('a timer store without advance', async (t) => {
  storeConformance(t, async () => {
    const stores = memoryStores()
    const inner = stores.timers
    const timers: TimerStore = { put: (x) => inner.put(x), delete: (id, order) => inner.delete(id, order), get: (id) => inner.get(id), due: (now, limit) => inner.due(now, limit), next: () => inner.next(), list: () => inner.list() }
    return { ...stores, timers }
  })
})
