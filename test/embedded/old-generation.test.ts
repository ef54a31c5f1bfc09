// A fork/join leaves its garbage in the young generation, where a scavenge takes it back for
// nothing. The maps that hold a fork while it runs (its caller, its joiner's instance, its deadline
// timer, its children's statuses) live as long as the system and go back to empty after every
// join; V8 puts the new tables of such a map in the old generation (lib/core/map-without.ts), which
// left about 630 bytes a join there for a full collection to find.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import { Actor, createSystem } from '../../lib/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size

class Child extends Actor<{ x: number }, number> {
  static readonly type = 'child'
  receive(msg: Child['In']) {
    return msg.x
  }
}

t.test('sequential fork/joins leave less than 300 bytes of garbage a join in the old generation (about 750 when long-lived maps churned)', async (t) => {
  const system = createSystem({ actors: [Child], logLevel: 'silent' })
  t.teardown(() => system.stop())
  const forkJoin = async (x: number) => {
    const joined = await system.fork([[Child, { x }], [Child, { x: x + 1 }], [Child, { x: x + 2 }]], { timeoutMs: 30_000 })
    if (!joined.complete) throw new Error(`fork ${x} did not join`)
  }
  // A full collection V8 runs on its own during the joins would take their garbage before it is
  // counted: such a try is not a measurement, and is made again.
  const fullCollections: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullCollections.push(entry.startTime)
  })
  observer.observe({ entryTypes: ['gc'] })
  t.teardown(() => observer.disconnect())
  for (let x = 0; x < 5_000; x++) await forkJoin(x)
  const joins = 10_000
  for (let attempt = 1; ; attempt++) {
    gc()
    const before = oldSpaceUsed()
    const start = performance.now()
    for (let x = 0; x < joins; x++) await forkJoin(x)
    const grown = oldSpaceUsed()
    const end = performance.now()
    // Entries are delivered after the collection, on a later turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 20))
    const during = fullCollections.filter((at) => at > start && at < end).length
    if (during !== 0 && attempt < 3) continue
    t.equal(during, 0, 'no full collection ran during the joins')
    gc()
    // What a full collection takes back is garbage; what stays (a receipt kept, code compiled) is not.
    const garbagePerJoin = (grown - oldSpaceUsed()) / joins
    t.ok(garbagePerJoin < 300, `${garbagePerJoin.toFixed(0)} bytes of garbage a join in the old generation (it grew ${((grown - before) / joins).toFixed(0)} a join)`)
    return
  }
})
