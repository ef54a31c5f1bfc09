// A request whose connection goes silent fails after the clients' idle bound instead of holding
// its batch, and so its shard, for good (lib/store/request-idle-timeout.ts). The silence is real:
// a TCP proxy in front of dynalite takes one commit's bytes and never answers, as a black-holed
// route does; nothing of the SDK is replaced.
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureStream } from '../../lib/aws/resources.js'
import { boundIdleRequests, REQUEST_IDLE_TIMEOUT_MS } from '../../lib/store/request-idle-timeout.js'
import { Actor, type Context } from '../../lib/index.js'
import { clients } from '../../lib/local/local-stack.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { localStackFor } from '../fixtures/local-stack.js'

type In = { k: string }
type Count = { n: number }

class Counted extends Actor<In, void, Count> {
  static readonly type = 'idle.counted'
  key(m: In) {
    return m.k
  }
  initialState(): Count {
    return { n: 0 }
  }
  receive(_m: In, ctx: Context<Count>) {
    ctx.state.n++
  }
}

const { stack, aws } = await localStackFor(t)

/** The handler's settings as its next request uses them (resolved by a request). */
async function handlerSettings(client: DynamoDBClient): Promise<{ socketTimeout?: number; defaultSocketTimeout?: number }> {
  await client.send(new ListTablesCommand({}))
  return (client.config.requestHandler as unknown as { httpHandlerConfigs(): { socketTimeout?: number; defaultSocketTimeout?: number } }).httpHandlerConfigs()
}

t.test('an AwsSystem bounds its clients’ silent requests, unless a client has its own bound', async (t) => {
  const endpoint = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, endpoint: stack.dynamodbEndpoint }
  const plain = new DynamoDBClient({ ...endpoint, requestHandler: new NodeHttpHandler() })
  const own = new DynamoDBClient({ ...endpoint, requestHandler: new NodeHttpHandler({ socketTimeout: 1_234 }) })
  t.teardown(() => [plain, own].forEach((c) => c.destroy()))
  for (const [name, dynamodb] of [['plain', plain], ['own', own]] as const) {
    const system = new AwsSystem({ actors: [Counted], kinesis: aws.kinesis, dynamodb, tableName: `idle-${name}`, stream: `idle-${name}`, consume: false, timers: false, logLevel: 'error' })
    await system.stop()
  }
  t.equal((await handlerSettings(plain)).defaultSocketTimeout, REQUEST_IDLE_TIMEOUT_MS, 'a client with no bound gets troupe’s')
  t.equal((await handlerSettings(own)).socketTimeout, 1_234, 'a client’s own bound stays, and is the one used')
})

t.test('a commit whose connection goes silent fails, is sent again, and its shard moves on', async (t) => {
  // The proxy: every connection is piped to dynalite, except that the first PutItem of key a's
  // state is taken and never answered, on a connection that stays open.
  const target = new URL(stack.dynamodbEndpoint)
  let swallowed = 0
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((down) => {
    const up = net.connect(Number(target.port), target.hostname)
    sockets.add(down).add(up)
    let silent = false
    down.on('data', (chunk) => {
      if (!silent && swallowed === 0 && chunk.includes('"Item":{"pk":{"S":"state#idle.counted#a"}')) {
        silent = true
        swallowed++
      }
      if (!silent) up.write(chunk)
    })
    up.on('data', (chunk) => {
      if (!silent) down.write(chunk)
    })
    const close = () => {
      down.destroy()
      up.destroy()
    }
    down.on('close', close).on('error', close)
    up.on('close', close).on('error', close)
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    proxy.close()
  })
  const { dynamodb } = clients({ dynamodbEndpoint: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, kinesisEndpoint: stack.kinesisEndpoint })
  t.teardown(() => dynamodb.destroy())
  // A bound of a second, set before the system's own (30 s), which yields to it: the same mechanism, sooner.
  t.ok(boundIdleRequests(dynamodb, 1_000))
  const tableName = 'idle-silent'
  await createTable(dynamodb, tableName)
  await ensureStream(aws.kinesis, 'idle-silent', 1)
  const system = new AwsSystem({ actors: [Counted], kinesis: aws.kinesis, dynamodb, tableName, stream: 'idle-silent', pollMs: 250, logLevel: 'error' })
  t.teardown(() => system.stop())
  const done: string[] = []
  system.on((event) => {
    if (event.type === '@troupe.done') done.push(event.envelope.key)
  })
  await system.tell(Counted, { k: 'a' })
  await system.idle()
  t.equal(swallowed, 1, 'the first commit of a went unanswered')
  // The batch after it: read only once the batch that held a's commit has ended.
  for (const k of ['b', 'c']) await system.tell(Counted, { k })
  await system.idle()
  t.same([...done].sort(), ['a', 'b', 'c'], 'every message done once')
  const states = new DynamoDBStateStore({ client: aws.dynamodb, tableName })
  for (const k of ['a', 'b', 'c']) t.same(JSON.parse((await states.get(Counted.type, k))!.state).json, { n: 1 }, `${k} applied once`)
})
