// Pause and resume on the embedded and the AWS mode (the same cases the conformance suite runs
// in every mode, here alone for a quick check).
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/aws/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { embeddedMode } from '../fixtures/conformance/embedded-mode.js'
import { pausing } from '../fixtures/conformance/pausing.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 10_000 })
})
t.teardown(() => stack?.stop())

t.test('embedded', async (t) => pausing(t, embeddedMode))
t.test('aws', async (t) => pausing(t, awsMode(() => stack!)))
