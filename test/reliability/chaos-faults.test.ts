// The chaos test with AWS faults instead of kills: PutRecords partial failures and throttles,
// DynamoDB throttles, UnprocessedKeys/Items, calls slower than the function's deadline (the
// environment is killed by its timeout), and a second host (an AwsSystem with its shard
// consumer) racing the Lambda on the same keys. Same checks as chaos-kills.test.ts.
import t from 'tap'
import { check, chaosSetup, report, seed, size, timeout } from './fixtures/chaos-suite.js'
import { runChaos } from './fixtures/run-chaos.js'

const { stack, bundle } = chaosSetup()

t.test(`AWS faults and a second host on the same keys (seed ${seed + 1})`, { timeout }, async (t) => {
  const f = await runChaos(t, stack(), bundle(), { seed: seed + 1, ...size, killsPerPhase: 0, poison: 0.02, faults: true, secondHost: true, shards: 2, duplicateDelivery: 0 })
  report(t, 'faults', f)
  check(t, f)
  for (const kind of ['UnprocessedKeys', 'DynamoDB throttle']) t.ok((f.faults[kind] ?? 0) >= 1, `${kind} happened (${f.faults[kind] ?? 0})`)
  t.ok(f.secondHostApplied > 0, 'the second host ran turns too')
})
