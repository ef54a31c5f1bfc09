// A join aggregate that would outgrow a DynamoDB item, on the AWS mode (local servers): a reply
// too large to hold beside the others is kept in the overflow store and the joiner's item holds
// where; the join reads them back and runs once, with every reply whole. The joined result of a
// system.fork, too large for its receipt's item, waits in the overflow store too.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { Actor } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'

class Chunk extends Actor<{ i: number }, string> {
  static readonly type = 'jl.chunk'
  receive(msg: { i: number }) {
    return String(msg.i).repeat(150 * 1000)
  }
}

t.test('replies that together outgrow the joiner item (4 × 150 KB) still join whole: each is kept out of the item, and the result, too large for a receipt, waits in the overflow store', async (t) => {
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-jl-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Chunk], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, timerTickMs: 100, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  const joined = await system.fork([[Chunk, { i: 1 }], [Chunk, { i: 2 }], [Chunk, { i: 3 }], [Chunk, { i: 4 }]] as const, { timeoutMs: 30_000 })
  t.equal(joined.complete, true, 'the join ran with every reply')
  t.same(joined.missing, [])
  t.strictSame(
    joined.replies,
    [1, 2, 3, 4].map((i) => String(i).repeat(150 * 1000)),
    'all four, whole, in fork order (600 KB: no item holds them, a Kinesis record does)',
  )
  t.same(await system.deadLetters(), [], 'nothing dead-lettered')
})
