// Crash anywhere, on the Lambda path: the chaos host (fixtures/chaos-host.ts) in LocalFunction
// child processes behind the local event source mapping, over kinesalite and dynalite. Kills at
// every phase of a turn, then AWS faults (PutRecords partial failures and throttles, DynamoDB
// throttles, UnprocessedKeys/Items, calls slower than the function's deadline, a second host
// racing the Lambda on the same keys). Afterwards every keyed state is the exactly-once result,
// every message has a final receipt, and the dead letters are exactly the poisoned messages.
//
// `npm test` runs a short seeded form; `npm run soak` the full one (TROUPE_SOAK=1: 10,000
// messages over 1,000 keys, at least 50 kills), printing the figures. TROUPE_CHAOS_SEED replays a run.
import t, { type Test } from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/aws/local-stack.js'
import { PHASES } from './fixtures/chaos.js'
import { bundleChaosHost, runChaos, type ChaosFigures, type ChaosOptions } from './fixtures/run-chaos.js'

const soak = process.env.TROUPE_SOAK === '1'
const seed = Number(process.env.TROUPE_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31))
const size = soak ? { keys: 1_000, perKey: 10, killsPerPhase: 10, batchSize: 100, functionTimeoutMs: 10_000 } : { keys: 20, perKey: 6, killsPerPhase: 1, batchSize: 10, functionTimeoutMs: 3_000 }

// Run standalone (`npm run soak`), tap's default 30 s timeout would end the soak.
const timeout = soak ? 3 * 3_600_000 : 300_000
if (soak) t.setTimeout(timeout)

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleChaosHost(t)
})
t.teardown(() => stack?.stop())

function report(t: Test, name: string, f: ChaosFigures) {
  const line = `${name}: seed ${f.seed}, ${f.messages} messages over ${f.keys} keys (${f.poisoned} poisoned), ${f.killsTotal} kills ${JSON.stringify(f.kills)}, faults ${JSON.stringify(f.faults)}, ${f.invocations} invocations, ${f.functionErrors} function errors (${f.timeouts} timeouts), ${f.environments} environments, second host: ${f.secondHostApplied} turns, ${f.conflicts} lost writes; lost or wrong: ${f.wrongKeys} keys, ${f.missingReceipts} receipts, ${f.unexpectedDeadLetters} unexpected and ${f.missingDeadLetters} missing dead letters, ${f.onFailure} discarded batches; ${f.seconds} s ${JSON.stringify(f.phases)}`
  t.comment(line)
  if (soak) process.stderr.write(`${line}\n${JSON.stringify({ name, ...f })}\n`)
}


function check(t: Test, f: ChaosFigures) {
  t.equal(f.wrongKeys, 0, 'every keyed state is the exactly-once result (sum, ordered log, and the ordered log of what it told)')
  t.equal(f.missingReceipts, 0, 'every message has its final receipt (done, or dead when poisoned)')
  t.equal(f.unexpectedDeadLetters, 0, 'no dead letter but the poisoned messages')
  t.equal(f.missingDeadLetters, 0, 'every poisoned message is a dead letter')
  t.equal(f.onFailure, 0, 'the mapping gave up on nothing')
}

t.test(`kills at every phase of a turn (seed ${seed})`, { timeout }, async (t) => {
  const o: ChaosOptions = { seed, ...size, poison: 0.02, faults: false, secondHost: false, shards: 2, duplicateDelivery: 0.05 }
  const f = await runChaos(t, stack, bundle, o)
  report(t, 'kills', f)
  check(t, f)
  for (const p of PHASES) t.ok(f.kills[p] >= 1, `killed at ${p} (${f.kills[p]})`)
  if (soak) t.ok(f.killsTotal >= 50, `at least 50 kills (${f.killsTotal})`)
})

t.test(`AWS faults and a second host on the same keys (seed ${seed + 1})`, { timeout }, async (t) => {
  const o: ChaosOptions = { seed: seed + 1, ...size, killsPerPhase: 0, poison: 0.02, faults: true, secondHost: true, shards: 2, duplicateDelivery: 0 }
  const f = await runChaos(t, stack, bundle, o)
  report(t, 'faults', f)
  check(t, f)
  for (const kind of ['UnprocessedKeys', 'DynamoDB throttle']) t.ok((f.faults[kind] ?? 0) >= 1, `${kind} happened (${f.faults[kind] ?? 0})`)
  t.ok(f.secondHostApplied > 0, 'the second host ran turns too')
})
