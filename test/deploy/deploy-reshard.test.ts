// deploy() changing a stream's shard count with UpdateShardCount, on kinesis-local (kinesalite
// has no UpdateShardCount): up, in steps of at most double; then down; then nothing to do.
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import t from 'tap'
import { clients as localClients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { deploy } from '../../lib/deploy/deploy.js'
import type { StackOptions } from '../../lib/deploy/stack.js'
import { zip } from '../../lib/deploy/zip.js'
import { ControlPlane } from './fixtures/control-plane.js'

let stack: LocalStack | undefined
let data: ReturnType<typeof localClients>
t.before(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // kinesis-local (a Scala.js server in a child process) can miss its start-up probe on a
  // starved CPU; one more try keeps a busy machine from failing this test for that.
  stack = await startLocalStack({ kinesis: 'kinesis-local' }).catch(() => startLocalStack({ kinesis: 'kinesis-local' }))
  data = localClients(stack)
})
t.teardown(async () => {
  data?.kinesis.destroy()
  data?.dynamodb.destroy()
  await stack?.stop()
})

t.test('a different --shards reshards the stream; the same one leaves it', async (t) => {
  const plane = new ControlPlane()
  const clients = { ...data, ...plane.clients() }
  const code = zip([{ name: 'index.mjs', data: 'export const handler = async () => ({})\n' }])
  const options = (shards: number): StackOptions => ({ name: 'reshard', streams: [{ name: 'reshard', shards }], tableName: 'reshard', functionName: 'reshard' })
  const shardsNow = async () => (await data.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'reshard' }))).StreamDescriptionSummary!.OpenShardCount
  const fast = { firstPollMs: 5, propagationDelaysMs: [0] }

  const created = await deploy({ stack: options(1), zip: code }, clients, fast)
  t.match(created.steps[0], { resource: 'stream', action: 'create', detail: '1 shard' })
  t.equal(await shardsNow(), 1)

  const up = await deploy({ stack: options(3), zip: code }, clients, fast)
  t.same(up.steps[0], { resource: 'stream', name: 'reshard', action: 'update', detail: '1 → 3 shards' })
  t.equal(up.changes, 1, 'only the stream')
  t.equal(await shardsNow(), 3, 'through 2: one UpdateShardCount at most doubles')

  const down = await deploy({ stack: options(2), zip: code }, clients, fast)
  t.match(down.steps[0], { action: 'update', detail: '3 → 2 shards' })
  t.equal(await shardsNow(), 2)

  const same = await deploy({ stack: options(2), zip: code }, clients, fast)
  t.match(same.steps[0], { action: 'unchanged', detail: '2 shards' })
  t.equal(same.changes, 0)
})
