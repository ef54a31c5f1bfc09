// ctx.once across environments: the bundled handler behind the local event source mapping, killed
// around a side effect at every point (before ctx.once, inside the side effect after it took
// place, before and after the write of its record, after ctx.once returned, and past the commit),
// under both semantics. The side effect appends a line to a file the test reads, so its runs are
// counted wherever they happened. A redelivery runs in a fresh environment, which has only the
// side-effect store to go on.
//
// Expected runs per message: one, plus one at least once when the kill fell between the side
// effect and its record (in-once, before-record: the documented window). At most once, a kill
// after the claim and before the result's record (after-record, in-once) leaves the next run an
// OnceInterruptedError, which the actor counts instead of charging: one run if the kill came
// after the side effect, none if it came before — never two.
//
// `npm test` runs each point under each semantics ROUNDS times; TROUPE_SOAK=1 runs 20 rounds.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { Charger, Ledger, Sink, type OncePoint } from './fixtures/actors.js'
import { bundleFixture, rig } from './fixtures/rig.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'host')
})
t.teardown(() => stack?.stop())

const ROUNDS = process.env.TROUPE_SOAK ? 20 : 2
/** Run standalone (`npm run soak`), tap's default 30 s timeout would end the soak. */
if (process.env.TROUPE_SOAK) t.setTimeout(3_600_000)
const timeout = process.env.TROUPE_SOAK ? 3_600_000 : 300_000
const POINTS: (OncePoint | 'none')[] = ['before-once', 'in-once', 'before-record', 'after-record', 'after-once', 'none']

/** Runs of the side effect in `log`, by message id. */
function runsIn(log: string): Map<string, number> {
  const runs = new Map<string, number>()
  if (!existsSync(log)) return runs
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const id = line.split(' ')[0]
    if (id) runs.set(id, (runs.get(id) ?? 0) + 1)
  }
  return runs
}

for (const semantics of ['at-least-once', 'at-most-once'] as const) {
  t.test(`${semantics}: environments killed around the side effect, ${ROUNDS} rounds of every point; runs counted exactly`, { timeout }, async (t) => {
    // One message a batch: a kill takes down the turns that ran beside it too, and whether those
    // had recorded their side effects is chance; alone, each message's count is known exactly.
    const r = await rig(t, stack, bundle, { actors: [Charger, Ledger, Sink], esm: { batchSize: 1 } })
    const log = join(r.markers, 'charges')
    const sent: { id: string; k: string; at: (typeof POINTS)[number] }[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const at of POINTS) {
        const k = `${at}-${round}`
        // At most once, the first record is the claim, written before the side effect: "before-record"
        // dies before it is written, "after-record" once it is, before the side effect runs.
        const crash = at === 'none' ? undefined : { at: at as OncePoint, id: `${semantics}-${k}` }
        const id = await r.producer.tell(Charger, { k, n: round, log, semantics, ...(crash ? { crash } : {}) })
        sent.push({ id, k, at })
      }
    }
    await r.settle()
    const exits = r.logs.filter((l) => l.startsWith('fixture: exiting at '))
    t.equal(exits.length, ROUNDS * (POINTS.length - 1), 'every kill happened, once each')
    t.equal(r.fn.stats().crashes, exits.length, 'and each took its environment down')
    const runs = runsIn(log)
    for (const { id, k, at } of sent) {
      // At least once, a kill between the side effect and its record runs it again.
      const inWindow = semantics === 'at-least-once' && (at === 'in-once' || at === 'before-record')
      // At most once, a kill after the claim (written before the side effect) and before the record
      // of its result leaves the next run the claim alone: it is interrupted, and the side effect ran
      // only if the kill came after it. A kill after ctx.once returned finds the result recorded.
      const interrupted = semantics === 'at-most-once' && (at === 'in-once' || at === 'after-record')
      const expected = interrupted ? (at === 'after-record' ? 0 : 1) : inWindow ? 2 : 1
      t.equal(runs.get(id) ?? 0, expected, `${k}: ${expected} run(s) of the side effect`)
      const state = await r.producer.state(Charger, k)
      t.same(state, interrupted ? { charges: [], interrupted: 1 } : { charges: [`ch-${k}-${k.split('-').pop()}`], interrupted: 0 }, `${k}: ${interrupted ? 'the turn saw the interruption' : 'charged, and committed once'}`)
    }
    t.same(r.failures, [], 'nothing was given up on')
  })
}
