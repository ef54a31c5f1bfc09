// Fan-in under kills: many short-lived senders each telling one hot receiver once, and a
// bank-transfer saga (fork/join with compensation) whose settlements all tell one Ledger, run
// through the Lambda path and through an in-process consumer that is killed and restarted, with
// kills at every phase of a turn. A receiver hears from thousands of senders, so a copy of a
// message can come after any number of others; each must still be applied once (see
// fixtures/run-fan-in.ts for the checks, docs/guarantees.md for why).
//
// `npm test` runs a fixed seed with 54 kills per path; `npm run soak` runs about 55,000 messages
// and 252 kills per path, over 100,000 messages and 500 kills in all (TROUPE_CHAOS_SEED picks
// another seed).
import t from 'tap'
import { chaosSetup, seed, soak, timeout } from './fixtures/chaos-suite.js'
import { bundleConsumerHost, checkFanIn, reportFanIn, runFanInConsumer, runFanInLambda, type FanInSize } from './fixtures/run-fan-in.js'

const size: FanInSize = soak
  ? { senders: 12_000, accounts: 400, transfers: 3_500, killsPerPhase: 42, shards: 4, batchSize: 100, functionTimeoutMs: 20_000 }
  : { senders: 200, accounts: 30, transfers: 300, killsPerPhase: 9, shards: 2, batchSize: 100, functionTimeoutMs: 5_000, killRateScale: 3 }

const { stack, bundle } = chaosSetup()

t.test(`the Lambda path, ${size.killsPerPhase * 6} kills (seed ${seed})`, { timeout }, async (t) => {
  const f = await runFanInLambda(t, stack(), bundle(), seed, size)
  reportFanIn(t, f)
  checkFanIn(t, f, size)
})

t.test(`an in-process consumer killed and restarted, ${size.killsPerPhase * 6} kills (seed ${seed})`, { timeout }, async (t) => {
  const f = await runFanInConsumer(t, stack(), await bundleConsumerHost(t), seed, size, soak ? 3 * 3_600_000 : 240_000)
  reportFanIn(t, f)
  checkFanIn(t, f, size)
})
