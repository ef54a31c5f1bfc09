// A request whose connection goes silent fails after the clients' idle bound instead of holding
// its batch, and so its shard, for good (lib/store/request-idle-timeout.ts). The silence is real:
// a TCP proxy in front of dynalite takes one commit's bytes and never answers, as a black-holed
// route does; nothing of the SDK is replaced. Once the commit is not made, once it is made and its
// answer lost: the SDK's second try then finds its condition failed, and the write must be
// recognised as the run's own.
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
import { silentProxy } from '../fixtures/silent-proxy.js'
import { counting } from '../fixtures/actors.js'

type In = { k: string }
type Count = { n: number }

/** What Counted's turns send: counted where it lands. */
const Tally = counting('idle.tally')

class Counted extends Actor<In, void, Count> {
  static readonly type = 'idle.counted'
  key(m: In) {
    return m.k
  }
  initialState(): Count {
    return { n: 0 }
  }
  receive(m: In, ctx: Context<Count>) {
    ctx.state.n++
    ctx.tell(Tally, m)
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

for (const lands of [false, true]) {
  const title = lands
    ? 'a commit that lands but whose answer never comes is sent again, recognised, and what it sent goes out once'
    : 'a commit whose connection goes silent fails, is sent again, and its shard moves on'
  t.test(title, async (t) => {
    const proxy = await silentProxy(t, stack.dynamodbEndpoint, (chunk) => chunk.includes('"Item":{"pk":{"S":"state#idle.counted#a"}'), lands)
    const { dynamodb } = clients({ dynamodbEndpoint: proxy.endpoint, kinesisEndpoint: stack.kinesisEndpoint })
    t.teardown(() => dynamodb.destroy())
    // A bound of a second, set before the system's own (30 s), which yields to it: the same mechanism, sooner.
    t.ok(boundIdleRequests(dynamodb, 1_000))
    const name = lands ? 'idle-landed' : 'idle-silent'
    await createTable(dynamodb, name)
    await ensureStream(aws.kinesis, name, 1)
    const system = new AwsSystem({ actors: [Counted, Tally], kinesis: aws.kinesis, dynamodb, tableName: name, stream: name, pollMs: 250, logLevel: 'error' })
    t.teardown(() => system.stop())
    const done: string[] = []
    system.on((event) => {
      if (event.type === '@troupe.done' && event.envelope.type === Counted.type) done.push(event.envelope.key)
    })
    await system.tell(Counted, { k: 'a' })
    await system.idle()
    t.equal(proxy.swallowed(), 1, lands ? 'the first commit of a was made, its answer never came' : 'the first commit of a went unanswered')
    // The batch after it: read only once the batch that held a's commit has ended.
    for (const k of ['b', 'c']) await system.tell(Counted, { k })
    await system.idle()
    // When the commit was made, the run that finds it made emits no done event for a (lost with the answer).
    if (!lands) t.same([...done].sort(), ['a', 'b', 'c'], 'every message done once')
    const states = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
    for (const k of ['a', 'b', 'c']) {
      t.same(JSON.parse((await states.get(Counted.type, k))!.state).json, { n: 1 }, `${k} applied once`)
      t.same(JSON.parse((await states.get(Tally.type, k))!.state).json, { n: 1 }, `what ${k}'s turn sent applied once`)
    }
  })
}
