// A shard consumer renews its leases every leaseMs / 3, all of them in one round. A renewal that
// falls silent (its connection black-holed) waited for the clients' idle bound, 30 s, longer than
// the lease: the round waited with it, and every lease of the process ran out behind that one
// request. Now each renewal is given up by the next round (lib/aws/shard-lease-renewal.ts), and the
// round after renews the lease in time. The silence is real: a TCP proxy in front of dynalite.
import t from 'tap'
import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { createLogger } from '../../lib/core/logger.js'
import { clients } from '../../lib/local/local-stack.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { silentProxy } from '../fixtures/silent-proxy.js'
import { counting } from '../fixtures/actors.js'

const Noted = counting('ls.noted')
const LEASE_MS = 1_500

const { stack, aws } = await localStackFor(t)

t.test('a renewal that falls silent is given up by the next round, and the lease is kept', async (t) => {
  const name = 'lease-silent'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  // The first lease renewal (an UpdateItem that sets the lease's expiry) goes silent.
  const proxy = await silentProxy(t, stack.dynamodbEndpoint, (chunk) => chunk.includes('"UpdateExpression":"SET #exp = :exp"'))
  const { dynamodb } = clients({ dynamodbEndpoint: proxy.endpoint, kinesisEndpoint: stack.kinesisEndpoint })
  t.teardown(() => dynamodb.destroy())
  const warnings: string[] = []
  const logger = createLogger('warn', {}, (line) => void warnings.push(line))
  const system = new AwsSystem({ actors: [Noted], kinesis: aws.kinesis, dynamodb, tableName: name, stream: name, pollMs: 250, consumer: { leaseMs: LEASE_MS }, logger })
  t.teardown(() => system.stop())
  await system.idle()
  const shards = system.consumer!.stats()
  t.equal(shards.length, 1)
  const shardId = shards[0]!.shardId
  /** The lease's expiry as the table holds it, read past the proxy. */
  const expiry = async () => Number((await aws.dynamodb.send(new GetItemCommand({ TableName: name, Key: { pk: { S: `lease#${name}#${shardId}` }, sk: { S: 'lease' } }, ConsistentRead: true }))).Item?.expiresAt?.N)
  // Until a renewal went silent, and then one more landed after it: within a few rounds, well under the 30 s the silent one may wait.
  const until = Date.now() + 10 * LEASE_MS
  while (proxy.swallowed() === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(proxy.swallowed(), 1, 'a renewal went silent')
  const silentAt = proxy.swallowedAt()!
  while ((await expiry()) <= silentAt + LEASE_MS && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok((await expiry()) > silentAt + LEASE_MS, 'a later round renewed the lease')
  t.equal(system.consumer!.stats()[0]!.owned, true, 'the reader still holds its shard')
  t.notMatch(warnings.join('\n'), /lease ran out without a renewal/, 'its lease never ran out')
  // And the shard is read: a message told now runs.
  await system.tell(Noted, { k: 'a' })
  await system.idle()
  t.same(await system.state(Noted, 'a'), { n: 1 })
})
