// A join aggregate that would outgrow a DynamoDB item, on the AWS mode (local servers): the
// fork's replies are gathered in one joiner item of at most 400 KB. The reply that would pass it
// is a dead letter naming the joiner's item (ItemTooLargeError), and the join still runs once, at
// its deadline, with that child listed as missing: nothing hangs, nothing is lost silently.
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

t.test('replies that outgrow the joiner item: a named dead letter, and the join at its deadline lists the child as missing', async (t) => {
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-jl-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Chunk], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, timerTickMs: 100, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  const joined = await system.fork([[Chunk, { i: 1 }], [Chunk, { i: 2 }], [Chunk, { i: 3 }], [Chunk, { i: 4 }]] as const, { timeoutMs: 5_000 })
  t.comment(JSON.stringify({ complete: joined.complete, missing: joined.missing, replies: joined.replies.map((r) => (typeof r === 'string' ? r.length : r)) }))
  // Each reply is 150 KB: two fit in the joiner's 400 KB item, a third would pass it. Which two
  // arrive first is up to the stream; that exactly two do, and two do not, is not.
  t.equal(joined.complete, false, 'the join ran without every reply')
  t.equal(joined.missing.length, 2, 'the two replies that did not fit are listed as missing')
  const missing = joined.missing.map((m) => m.index).sort((a, b) => a - b)
  const present = [0, 1, 2, 3].filter((i) => !missing.includes(i))
  t.strictSame(
    present.map((i) => joined.replies[i]),
    present.map((i) => String(i + 1).repeat(150 * 1000)),
    'the two that fit are there, whole',
  )
  t.ok(missing.every((i) => joined.replies[i] === undefined), 'the missing ones have no reply')
  const letters = await system.deadLetters()
  t.equal(letters.length, 2, 'each reply that did not fit is a dead letter')
  t.strictSame(letters.map((l) => l.envelope.causationId).sort(), joined.missing.map((m) => m.messageId).sort(), 'the dead letters are the missing children’s replies')
  for (const l of letters) t.match(l.error, { name: 'ItemTooLargeError', message: /troupe\.joiner#/ }, 'naming the joiner item it would outgrow')
})
