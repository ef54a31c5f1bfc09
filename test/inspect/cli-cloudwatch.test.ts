// `troupe inspect --table` with the counts from CloudWatch: the AWS mode's table on dynalite, the
// metrics an AwsSystem's turns made written as the Lambda host writes them (EMF lines) into the
// local CloudWatch, and the CLI reading both.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import type { ActorRow, CostView } from '../../lib/inspect/inspector.js'
import { startLocalCloudWatch } from '../../lib/local/local-cloudwatch.js'
import { clients, startLocalStack } from '../../lib/local/local-stack.js'
import { ActorMetrics, type TypeCounts } from '../../lib/metrics/actor-metrics.js'
import { emfLines } from '../../lib/metrics/emf.js'
import { inspectCli, json } from './fixtures/cli-checks.js'
import { Count, Middle, Start, until } from './fixtures/scenario.js'

t.test('inspect actors and cost over a table read the hosts’ counts from CloudWatch', async (t) => {
  const stack = await startLocalStack()
  const cw = await startLocalCloudWatch()
  const { dynamodb, kinesis } = clients(stack)
  const name = `inspect-cw-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name] })
  const system = new AwsSystem({ actors: [Count, Middle, Start], kinesis, dynamodb, tableName: name, stream: name, logLevel: 'silent', pollMs: 20, lingerMs: 2 })
  t.teardown(async () => {
    await system.stop()
    kinesis.destroy()
    dynamodb.destroy()
    await cw.stop()
    await stack.stop()
  })
  const metrics = new ActorMetrics()
  system.on(metrics.listener)

  // Start a → Middle a → Count a; Count b twice; Count c: in.count runs 4 turns on 3 keys.
  await system.tell(Start, { k: 'a' })
  await system.tell(Count, { k: 'b' })
  await system.tell(Count, { k: 'b' })
  await system.tell(Count, { k: 'c' })
  // What the turns counted, written out as a host writes it after each invocation.
  const processed = new Map<string, number>()
  await until('the turns to be counted', async () => {
    const take = metrics.take()
    for (const [type, c] of take.types) processed.set(type, (processed.get(type) ?? 0) + c.processed)
    for (const line of emfLines(name, Date.now(), take)) cw.ingest(line)
    return processed.get(Count.type) === 4 && processed.get(Middle.type) === 1 && processed.get(Start.type) === 1
  })
  const byApi = { 'DynamoDB.UpdateItem': { requests: 7, errors: 1, requestBytes: 700, responseBytes: 300, units: 9 }, 'Kinesis.ListShards': { requests: 2, errors: 0, requestBytes: 20, responseBytes: 200 } }
  for (const line of emfLines(name, Date.now(), { types: new Map(), traffic: [] }, { byApi })) cw.ingest(line)
  await until('the three keys in the table', async () => (await system.state(Count, 'b'))?.n === 2 && (await system.state(Count, 'c'))?.n === 1 && (await system.state(Count, 'a'))?.n === 1)
  // Another stack in the same account and namespace.
  const other = { types: new Map<string, TypeCounts>([[Count.type, { processed: 50, filtered: 0, retried: 0, throttled: 0, dead: 0 }]]), traffic: [] }
  for (const line of emfLines('other', Date.now(), other)) cw.ingest(line)

  const table = ['--table', name, '--endpoint', stack.dynamodbEndpoint]
  const withCloudWatch = [...table, '--cloudwatch-endpoint', cw.endpoint]
  const rows = await json<ActorRow[]>(t, ['actors'], withCloudWatch)
  const row = (type: string) => rows.find((r) => r.type === type)
  t.equal(row(Count.type)?.instances, 3, 'instances from the table')
  t.equal(row(Count.type)?.processed, 4, 'processed from CloudWatch')
  t.equal(row(Middle.type)?.processed, 1, 'each type')
  t.equal(row(Start.type)?.processed, 1, 'each type')

  const { dollars, ...cost } = await json<CostView>(t, ['cost'], withCloudWatch)
  t.same(cost, { messages: 6, requests: 9, requestsPerMessage: 1.5, byApi, compute: 'lambda' }, 'cost from CloudWatch, billed units included, counted by Lambda hosts')
  t.equal(dollars?.perMillionByApi['DynamoDB.UpdateItem'], (9 * 0.625) / 6, 'priced from the units the hosts counted')

  t.equal((await json<ActorRow[]>(t, ['actors'], [...withCloudWatch, '--service', 'other'])).find((r) => r.type === Count.type)?.processed, 50, '--service reads another Service')
  t.equal((await json<ActorRow[]>(t, ['actors'], table)).find((r) => r.type === Count.type)?.processed, undefined, 'a local table alone: no counts')
  const refused = await inspectCli(['actors', '--metrics', 'cloudwatch'], table)
  t.equal(refused.code, 2, '--metrics cloudwatch over a local table without a local CloudWatch: a usage error')
  t.match(refused.stderr, /--cloudwatch-endpoint/, 'that says what to add')
})
