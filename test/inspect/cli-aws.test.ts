// `troupe inspect --table` against the AWS mode's table on the local servers (dynalite and
// kinesalite), with an AwsSystem running the scenario's turns in this process; `cost` comes
// from that process over --url.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { HttpInspector } from '../../lib/inspect/http-inspector.js'
import type { ActorRow, CostView, MessageView } from '../../lib/inspect/inspector.js'
import { checkScenario, inspectCli, json } from './fixtures/cli-checks.js'
import { ACTORS, Count, Middle, play, Poison } from './fixtures/scenario.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { encode } from '../../lib/core/serialization.js'
import { encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 1_000 })
})
t.teardown(() => stack?.stop())

t.test('every command answers --json with the scenario’s known counts', async (t) => {
  const { dynamodb, kinesis } = clients(stack!)
  const name = `inspect-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 2 })
  const system = new AwsSystem({ actors: ACTORS, kinesis, dynamodb, tableName: name, stream: name, receiptsForAll: true, logLevel: 'silent', pollMs: 20, timerTickMs: 50, lingerMs: 2 })
  const inspector = new SystemInspector(system)
  const server = await serveInspection(inspector)
  t.teardown(async () => {
    await server.close()
    await inspector.close()
    await system.stop()
    kinesis.destroy()
    dynamodb.destroy()
  })
  const started = Date.now()
  const ids = await play(system)
  const source = ['--table', name, '--endpoint', stack!.dynamodbEndpoint, '--stream', name, '--kinesis-endpoint', stack!.kinesisEndpoint]
  await checkScenario(t, source, ids, {
    state: async (k) => system.state(Count, k),
    poisonOk: async () => (await system.state(Poison, 'p'))?.ok,
  })
  // An item that holds only messages waiting (a retry or a throttle parked the key's first one) has no state to show.
  const parked = makeEnvelope({ id: 'parked-1' as MessageId, type: Count.type, key: 'waits', body: { key: 'waits' }, correlationId: 'parked-1' as CorrelationId, sentAt: Date.now() })
  await new DynamoDBStateStore({ client: dynamodb, tableName: name }).put(Count.type, 'waits', { state: encode(undefined), version: 1, updatedAt: Date.now(), meta: encodeMeta({ marks: {}, recent: [], parked: [parked] }) }, undefined)
  const waits = await inspectCli(['state', Count.type, 'waits'], source)
  t.match(waits.stdout, /version 1 .*\n\(no state yet: no turn of it has succeeded; 1 message waits in its item\)/, 'an item before any turn succeeded says it has no state yet, and the message parked in it')
  const held = makeEnvelope({ id: 'held-1' as MessageId, type: Count.type, key: 'holds', body: { key: 'holds' }, correlationId: 'held-1' as CorrelationId, sentAt: Date.now() })
  await new DynamoDBStateStore({ client: dynamodb, tableName: name }).put(Count.type, 'holds', { state: encode(undefined), version: 1, updatedAt: Date.now(), meta: encodeMeta({ marks: {}, recent: [], paused: true, held: [held] }) }, undefined)
  const holds = await inspectCli(['state', Count.type, 'holds'], source)
  t.match(holds.stdout, /PAUSED\n\(no state yet: no turn of it has succeeded; 1 message waits in its item\)/, 'and how many messages it holds')
  await new DynamoDBStateStore({ client: dynamodb, tableName: name }).delete(Count.type, 'holds') // made by hand for this look alone

  // The system in this process says the same of the fork as the table does.
  t.equal((await inspectCli(['message', ids.fork], ['--url', server.url])).code, 1, 'the fork’s id is no message here either')
  t.same((await json<MessageView>(t, ['message', ids.forkChild], ['--url', server.url])).causes, [], 'and its child was sent from outside troupe')
  t.equal(await system.receipt(ids.fork), undefined, 'system.receipt of a fork’s id is none, as in the embedded mode')

  // The process reads its streams: it shows each type's last turn and iterator age, as the Lambda host's metrics do.
  const own = (await json<ActorRow[]>(t, ['actors'], ['--url', server.url])).find((r) => r.type === Count.type)
  t.ok(own?.lastActivityAt !== undefined && own.lastActivityAt >= started, `in.count's last activity, from this process (${own?.lastActivityAt})`)
  t.ok(own?.iteratorAgeMs !== undefined && own.iteratorAgeMs >= 0, `in.count's iterator age, from the batches it took in (${own?.iteratorAgeMs} ms)`)

  const cost = await json<CostView>(t, ['cost'], ['--url', server.url])
  t.ok(cost.requests > 0 && cost.messages > 0, `cost: ${cost.requests} requests for ${cost.messages} messages`)
  t.equal(cost.compute, 'process', 'the turns ran in this process, which reads its streams: no Lambda compute')
  t.ok(cost.byApi.PutRecords || cost.byApi['Kinesis.PutRecords'] || Object.keys(cost.byApi).some((k) => /PutRecords/.test(k)), 'by API')

  // What each inspector says it reads, for the web view's header.
  t.same(await inspector.describe(), { mode: 'aws', source: `one process, stream ${name}` }, 'an AwsSystem in this process')
  t.same(await new HttpInspector(server.url).describe(), { mode: 'aws', source: `one process, stream ${name} at ${server.url}` }, 'the same, over HTTP')
  const table = new TableInspector({ dynamodb, tableName: name })
  t.same(await table.describe(), { mode: 'aws', source: `table ${name}` }, 'the table alone')
  const withStream = new TableInspector({ dynamodb, tableName: name, kinesis, stream: name })
  t.same(await withStream.describe(), { mode: 'aws', source: `table ${name}, stream ${name}` }, 'the table and its stream')
  await withStream.close()

  // Given the app's classes (as troupe dev's Lambda host does), the table says what the system
  // says: every type it runs with its kind, and no pause or state of a type it does not run.
  const withApp = new TableInspector({ dynamodb, tableName: name, actors: ACTORS })
  const running = new Map((await inspector.actors()).map((r) => [r.type, r.kind]))
  const fromTable = new Map((await withApp.actors()).map((r) => [r.type, r.kind]))
  for (const type of [...ACTORS.map((cls) => cls.type), 'troupe.joiner', 'troupe.forkResult', 'troupe.timer']) {
    t.ok(running.get(type) !== undefined, `${type}: the system says its kind`)
    t.equal(fromTable.get(type), running.get(type), `${type}: listed, ${running.get(type)}, as the system lists it`)
  }
  await t.rejects(withApp.pause('nosuch'), { code: 'TROUPE_UNKNOWN_ACTOR' }, 'pausing a type the app does not have is refused')
  await t.rejects(withApp.instances('nosuch'), { code: 'TROUPE_UNKNOWN_ACTOR' }, 'as is listing its state')
  await t.rejects(withApp.pause(Middle.type), { code: 'TROUPE_NOT_PAUSABLE' }, 'pausing a type that keeps no state is refused, as the system refuses it')
  await t.rejects(system.pause(Middle), { code: 'TROUPE_NOT_PAUSABLE' }, '(the system)')
  t.same(await withApp.pauses(), [], 'nothing was paused')
  await withApp.close()
})
