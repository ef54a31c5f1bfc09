// The conformance suite on the AWS mode: Kinesis (kinesalite) and DynamoDB (dynalite) started
// here, turns run by the shard consumer and the durable host in this process.
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { conformance } from '../fixtures/conformance/index.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 10_000 })
})
t.teardown(() => stack?.stop())

conformance(t, awsMode(() => stack!))
