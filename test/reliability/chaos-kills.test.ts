// Crash anywhere, on the Lambda path: the chaos host (fixtures/chaos-host.ts) in LocalFunction
// child processes behind the local event source mapping, over kinesalite and dynalite, killed at
// every phase of a turn (decode, load, receive, commit, send, respond), with 5% of batches
// delivered twice. Afterwards every keyed state is the exactly-once result, every message has a
// final receipt, and the dead letters are exactly the poisoned messages.
//
// `npm test` runs a short seeded form; `npm run soak` the full one (10,000 messages over 1,000
// keys, 60 kills), printing the figures. The seed is fixed; TROUPE_CHAOS_SEED runs another.
import t from 'tap'
import { PHASES } from './fixtures/chaos.js'
import { check, chaosSetup, report, seed, size, timeout } from './fixtures/chaos-suite.js'
import { runChaos } from './fixtures/run-chaos.js'

const { stack, bundle } = chaosSetup()

t.test(`kills at every phase of a turn (seed ${seed})`, { timeout }, async (t) => {
  const f = await runChaos(t, stack(), bundle(), { seed, ...size, poison: 0.02, faults: false, secondHost: false, shards: 2, duplicateDelivery: 0.05 })
  report(t, 'kills', f)
  check(t, f)
  // Each phase's budget is spent: the first six environments die once at each phase for sure,
  // and the run is long enough for the dice to spend the rest.
  for (const p of PHASES) t.equal(f.kills[p], size.killsPerPhase, `killed ${size.killsPerPhase} times at ${p}`)
})
