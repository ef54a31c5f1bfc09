// The conformance suite on the AWS mode with kinesis-local (kinesis-mock) for Kinesis, which is
// closer to AWS than kinesalite (sequence numbers, shard iterators, resharding) but slower at
// volume. The suite is latency-bound, so it runs every case here too.
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { conformance } from '../fixtures/conformance/index.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ kinesis: 'kinesis-local', shardLimit: 10_000 })
})
t.teardown(() => stack?.stop())

conformance(t, awsMode(() => stack!, { kinesis: 'kinesis-local' }))
