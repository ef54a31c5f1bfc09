// The conformance suite through the Lambda path: the system under test only tells, asks and
// reads; every turn runs in the bundled handler in local execution environments (child
// processes), fed by the local event source mapping, with ticks for timers.
//
// What runs here, and what differs from the other modes:
// - every area with `ask` through the local Lambda Invoke API (the fast path: AwsSystem's
//   `invoke` option), and the areas where asks meet the stream again with `ask` through the
//   stream (AwsSystem's default, which polls receipts from outside the host and is slower);
//   TROUPE_CONFORMANCE_LAMBDA=full runs every area both ways;
// - every case runs for real: none is marked todo or skipped on this path.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { areas, type Mode } from '../fixtures/conformance/index.js'
import { bundleConformanceHost, lambdaMode } from '../fixtures/lambda-mode.js'

// About two minutes on an idle 2-core machine; every case starts fresh function environments
// (child processes), so a loaded machine can take much longer than the default file timeout.
t.setTimeout(15 * 60_000)

let stack: LocalStack | undefined
let bundle: string | undefined
const dir = mkdtempSync(join(tmpdir(), 'troupe-cf-lambda-'))
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 10_000 })
  bundle = await bundleConformanceHost(dir)
})
t.teardown(async () => {
  await stack?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function run(mode: Mode, names: string[]): void {
  for (const name of names) t.test(`${mode.name}: ${name}`, async (t) => areas[name]!(t, mode))
}

const full = process.env.TROUPE_CONFORMANCE_LAMBDA === 'full'
run(lambdaMode(() => stack!, () => bundle!, { invoke: true }), Object.keys(areas))
run(lambdaMode(() => stack!, () => bundle!), full ? Object.keys(areas) : ['tell and ask', 'receipts'])
