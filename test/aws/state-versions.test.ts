// State versions in the durable host, on the local DynamoDB and Kinesis: a state committed by
// version 1 of an actor is migrated when a host running version 2 loads it, once, and kept at
// version 2 by that batch's one commit; a migration that throws fails its message by the policy
// and leaves the stored state as it was; a host running version 1 that meets a version-2 state
// applies nothing, writes nothing, logs why and leaves the records for redelivery, which a
// version-2 host then applies.
import t from 'tap'
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { createLogger } from '../../lib/core/logger.js'
import { decode } from '../../lib/core/serialization.js'
import { Router } from '../../lib/routing/router.js'
import { createTable } from '../../lib/store/dynamodb.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches } from './fixtures/durable.js'

type Hit = { page: string }
type V1 = { count: number }
type V2 = { total: number; pages: string[] }

class HitsV1 extends Actor<Hit, void, V1> {
  static readonly type = 'sv.hits'
  key(m: Hit) {
    return m.page
  }
  initialState() {
    return { count: 0 }
  }
  receive(_m: Hit, ctx: Context<V1>) {
    ctx.state.count++
  }
}

/** Version 2: `count` became `total`, and it keeps the pages it saw. */
function hitsV2(migrations: { n: number }, fail?: Error) {
  return class HitsV2 extends Actor<Hit, void, V2> {
    static readonly type = 'sv.hits'
    static readonly version = 2
    static readonly policy = { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 }
    key(m: Hit) {
      return m.page
    }
    initialState() {
      return { total: 0, pages: [] }
    }
    static migrate(state: unknown, fromVersion: number): V2 {
      migrations.n++
      if (fail) throw fail
      if (fromVersion !== 1) throw new Error(`no migration from ${fromVersion}`)
      return { total: (state as V1).count, pages: [] }
    }
    receive(m: Hit, ctx: Context<V2>) {
      ctx.state.total++
      ctx.state.pages.push(m.page)
    }
  }
}

const { aws } = await localStackFor(t)
let made = 0

/** A fresh table, a one-shard input stream and an output stream; `put` adds messages to the input. */
async function scenario() {
  const tableName = `sv-${process.pid}-${++made}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'sv-in')
  const output = await createStream(aws.kinesis, 1, 'sv-out')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const put = async (page: string, n: number) => {
    const report = await producer.send(Array.from({ length: n }, () => message('sv.hits', page, { page })))
    if (report.failed) throw new Error('could not put the messages')
  }
  /** The input stream as one batch: what a Lambda gets (records it applied before are copies). */
  const batch = async () => (await readBatches(aws.kinesis, input))[0]!
  return { tableName, input, output, put, batch }
}

t.test('a version-1 state is migrated once by a version-2 host, and committed at version 2 in the batch’s one write', async (t) => {
  const s = await scenario()
  const one = makeHost(aws, s.tableName, [HitsV1], { stream: s.output })
  await s.put('/home', 2)
  t.equal((await one.host.handle(await s.batch())).applied, 2)
  const before = (await one.state.get('sv.hits', '/home'))!
  t.equal(before.stateVersion, undefined, 'version 1 writes no version attribute')
  t.same(decode(before.state), { count: 2 })

  const migrations = { n: 0 }
  const V2 = hitsV2(migrations)
  const system = new AwsSystem({ actors: [V2], ...aws, tableName: s.tableName, stream: s.input, logLevel: 'error' })
  t.teardown(() => system.stop())
  t.same(await system.state(V2, '/home'), { total: 2, pages: [] }, 'system.state shows the migrated shape')
  t.same(await one.state.get('sv.hits', '/home'), before, 'and writes nothing')

  migrations.n = 0
  const two = makeHost(aws, s.tableName, [V2], { stream: s.output })
  await s.put('/home', 3)
  const result = await two.host.handle(await s.batch())
  t.equal(result.failedFrom, undefined)
  t.equal(result.applied, 3, 'the new messages ran')
  t.equal(result.duplicates, 2, 'those version 1 applied are copies')
  t.equal(migrations.n, 1, 'migrated once for the load, not per turn')
  const after = (await two.state.get('sv.hits', '/home'))!
  t.equal(after.stateVersion, 2, 'stored with the version of the code that committed it')
  t.equal(after.version, before.version + 1, 'in the one commit of the batch: no write of its own')
  t.same(decode(after.state), { total: 5, pages: ['/home', '/home', '/home'] })

  migrations.n = 0
  await s.put('/home', 1)
  t.equal((await two.host.handle(await s.batch())).applied, 1)
  t.equal(migrations.n, 0, 'a version-2 state is not migrated again')
})

t.test('a migration that throws fails its message by the policy; the stored state stays as version 1 wrote it', async (t) => {
  const s = await scenario()
  const one = makeHost(aws, s.tableName, [HitsV1], { stream: s.output })
  await s.put('/home', 1)
  await one.host.handle(await s.batch())
  const before = (await one.state.get('sv.hits', '/home'))!

  const migrations = { n: 0 }
  const two = makeHost(aws, s.tableName, [hitsV2(migrations, new Error('the old shape is unreadable'))], { stream: s.output })
  await s.put('/home', 1)
  const result = await two.host.handle(await s.batch())
  t.equal(result.failedFrom, undefined, 'no crash: the message ended, as a dead letter')
  t.equal(migrations.n, 2, 'each attempt of the policy migrated afresh')
  const [letter, ...more] = await two.journal.deadLetters('sv.hits')
  t.equal(more.length, 0)
  t.equal(letter!.attempts.length, 2)
  t.match(letter!.error, { code: 'TROUPE_STATE_MIGRATION_FAILED' })
  t.match(letter!.error.message, /state of sv\.hits key "\/home" could not be migrated from version 1 to 2: migrate threw: the old shape is unreadable/)
  const after = (await two.state.get('sv.hits', '/home'))!
  t.equal(after.state, before.state, 'the state is as version 1 stored it')
  t.equal(after.stateVersion, undefined, 'and still version 1')
  t.equal(after.version, before.version + 1, 'the commit kept only what the host keeps (the record was read)')
})

t.test('a version-1 host that meets a version-2 state applies nothing, writes nothing and leaves the records; a version-2 host applies them', async (t) => {
  const s = await scenario()
  const V2 = hitsV2({ n: 0 })
  const two = makeHost(aws, s.tableName, [V2], { stream: s.output })
  await s.put('/home', 1)
  await two.host.handle(await s.batch())
  const written = (await two.state.get('sv.hits', '/home'))!
  t.equal(written.stateVersion, 2)

  const lines: Record<string, unknown>[] = []
  const logger = createLogger('error', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>))
  const old = makeHost(aws, s.tableName, [HitsV1], { stream: s.output }, { logger })
  await s.put('/home', 1)
  const batch = await s.batch()
  const left = await old.host.handle(batch)
  t.equal(left.failedFrom, batch.records[0]!.sequenceNumber, "the instance's records are left for redelivery")
  t.equal(left.applied, 0, 'nothing applied')
  t.same(await old.state.get('sv.hits', '/home'), written, 'the item is exactly as version 2 wrote it')
  t.same(await old.journal.deadLetters(), [], 'no dead letter')
  const line = lines.find((l) => l.actor === 'sv.hits')
  t.match(line, { level: 'error', actor: 'sv.hits', key: '/home' }, 'an error line names the actor and the key')
  t.match(String(line?.error), /\[TROUPE_STATE_VERSION_NEWER\] state of sv\.hits key "\/home" was stored by version 2 of the actor, and this code runs version 1/, 'and both versions')

  const again = await old.host.handle(batch)
  t.equal(again.failedFrom, batch.records[0]!.sequenceNumber, 'a redelivery to the old host is left again')

  const newer = makeHost(aws, s.tableName, [V2], { stream: s.output })
  const applied = await newer.host.handle(batch)
  t.equal(applied.failedFrom, undefined)
  t.equal(applied.applied, 1, 'the version-2 host applies the message the old host left')
  t.same(decode((await newer.state.get('sv.hits', '/home'))!.state), { total: 2, pages: ['/home', '/home'] })
})

t.test('an item whose sv is no positive whole number (a string, 0, negative, a fraction) is neither migrated, run nor overwritten: its records wait, and the error names the field', async (t) => {
  for (const sv of [{ S: '3' }, { N: '0' }, { N: '-1' }, { N: '1.5' }]) {
    await t.test(JSON.stringify(sv), async (t) => {
      const s = await scenario()
      const one = makeHost(aws, s.tableName, [HitsV1], { stream: s.output })
      await s.put('/home', 1)
      await one.host.handle(await s.batch())
      const Key = { pk: { S: 'state#sv.hits#/home' }, sk: { S: 'state' } }
      await aws.dynamodb.send(new UpdateItemCommand({ TableName: s.tableName, Key, UpdateExpression: 'SET sv = :sv', ExpressionAttributeValues: { ':sv': sv } }))
      const item = async () => (await aws.dynamodb.send(new GetItemCommand({ TableName: s.tableName, Key, ConsistentRead: true }))).Item
      const before = await item()
      for (const Type of [hitsV2({ n: 0 }), HitsV1]) {
        const migrations = { n: 0 }
        const lines: Record<string, unknown>[] = []
        const logger = createLogger('error', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>))
        const host = makeHost(aws, s.tableName, [Type === HitsV1 ? HitsV1 : hitsV2(migrations)], { stream: s.output }, { logger })
        await s.put('/home', 1)
        const batch = await s.batch()
        const left = await host.host.handle(batch)
        t.equal(left.failedFrom, batch.records[0]!.sequenceNumber, "the instance's records wait for redelivery")
        t.equal(left.applied, 0)
        t.equal(migrations.n, 0, 'migrate is not called')
        t.same(await item(), before, 'the item is left as it was')
        t.same(await host.journal.deadLetters(), [])
        t.match(String(lines.find((l) => l.actor === 'sv.hits')?.error), new RegExp(`\\[TROUPE_STATE_VERSION_UNREADABLE\\] state of sv\\.hits key "/home" has a state version that is not a positive whole number: its field sv holds ${JSON.stringify(JSON.stringify(sv)).slice(1, -1).replace(/\\"/g, '"').replace(/[.{}]/g, (c) => `\\${c}`)}`))
      }
    })
  }
})
