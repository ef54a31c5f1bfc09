// A fork/join leaves its garbage in the young generation, where a scavenge takes it back for
// nothing. The maps that hold a fork while it runs (its caller, its joiner's instance, its deadline
// timer, its children's statuses) live as long as the system and go back to empty after every
// join; V8 puts the new tables of such a map in the old generation (lib/core/map-without.ts), which
// left about 600 bytes a join there for a full collection to find.
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
  const forkJoin = async (x: number) => {
    const joined = await system.fork([[Child, { x }], [Child, { x: x + 1 }], [Child, { x: x + 2 }]], { timeoutMs: 30_000 })
    if (!joined.complete) throw new Error(`fork ${x} did not join`)
  }
  for (let x = 0; x < 5_000; x++) await forkJoin(x)
  gc()
  const before = oldSpaceUsed()
  const joins = 10_000
  for (let x = 0; x < joins; x++) await forkJoin(x)
  const grown = oldSpaceUsed()
  gc()
  // What a full collection takes back is garbage; what stays (a receipt kept, code compiled) is not.
  const garbagePerJoin = (grown - oldSpaceUsed()) / joins
  t.ok(garbagePerJoin < 300, `${garbagePerJoin.toFixed(0)} bytes of garbage a join in the old generation (it grew ${((grown - before) / joins).toFixed(0)} a join)`)
  await system.stop()
})
