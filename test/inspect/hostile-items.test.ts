// Inspection over a table holding items troupe did not write as it writes them (by hand, or
// damaged): instance items whose bookkeeping or state is no superjson, or not of its shape, one
// without its version, a joiner whose state cannot be read, and a dead letter whose text holds no
// letter. Each is named with why, beside the items that read well; none fails a listing, and a
// replay refuses the letter it cannot read and leaves it. On dynalite and kinesalite.
import t from 'tap'
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { JOINER } from '../../actors/joiner.js'
import { DurablePauses } from '../../lib/aws/pauses.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import type { TroupeError } from '../../lib/core/errors.js'
import type { ActorRow, DeadRow, InstanceRow, JoinRow, Page } from '../../lib/inspect/inspector.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { encode } from '../../lib/core/serialization.js'
import { inspectCli, json } from './fixtures/cli-checks.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack?.stop())

const TYPE = 'h.counter'
const now = Date.now()

/** An instance item as the state store writes it, with `over` laid on top (`undefined` drops an attribute). */
function instance(key: string, over: Record<string, AttributeValue | undefined> = {}): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue | undefined> = {
    pk: { S: `state#${TYPE}#${key}` },
    sk: { S: 'state' },
    t: { S: TYPE },
    k: { S: key },
    state: { S: '{"json":{"n":1}}' },
    v: { N: '1' },
    at: { N: String(now) },
    m: { S: '{"json":{"marks":{},"recent":["m-1"]}}' },
    ...over,
  }
  return Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Record<string, AttributeValue>
}

const GOOD_LETTER = JSON.stringify({
  json: { envelope: { id: 'good-1', type: 'h.poison', key: 'p', body: { k: 'p' }, correlationId: 'good-1', sentAt: 1, attempt: 1 }, error: { name: 'Error', message: 'boom' }, attempts: [], deadAt: 1 },
})

const letter = (id: string, text: string): Record<string, AttributeValue> => ({ pk: { S: 'deadletters' }, sk: { S: `i#${id}` }, type: { S: 'h.poison' }, deadAt: { N: String(now) }, letter: { S: text } })

/** Why each bad instance item is unreadable, by key. */
const BAD: Record<string, { over: Record<string, AttributeValue | undefined>; why: RegExp }> = {
  'meta-not-json': { over: { m: { S: '{not json' } }, why: /its bookkeeping \(m\) cannot be read/ },
  'meta-null': { over: { m: { S: '{"json":null}' } }, why: /its bookkeeping \(m\) cannot be read/ },
  'meta-plain': { over: { m: { S: '{"marks":{},"recent":[]}' } }, why: /its bookkeeping \(m\) cannot be read/ },
  'meta-parked-string': { over: { m: { S: '{"json":{"marks":{},"recent":[],"parked":"abc"}}' } }, why: /its bookkeeping \(m\) is not as troupe writes it/ },
  'meta-proto-path': { over: { m: { S: '{"json":{"marks":{},"recent":[]},"meta":{"values":{"__proto__.x":["undefined"]}}}' } }, why: /its bookkeeping \(m\) cannot be read/ },
  'state-not-json': { over: { state: { S: '{"json":' } }, why: /its state cannot be read/ },
  'state-plain': { over: { state: { S: '{"n":5}' } }, why: /its state is not as troupe writes it/ },
  'no-version': { over: { v: undefined }, why: /it has no version \(v\)/ },
  'sv-string': { over: { sv: { S: '3' } }, why: /its state version \(sv\) holds \{"S":"3"\}, not a positive whole number/ },
  'sv-zero': { over: { sv: { N: '0' } }, why: /its state version \(sv\) holds \{"N":"0"\}, not a positive whole number/ },
}

t.test('items troupe cannot read are named beside the others, and a letter it cannot read is never replayed', async (t) => {
  const { dynamodb, kinesis } = clients(stack!)
  const name = `hostile-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  t.teardown(() => {
    kinesis.destroy()
    dynamodb.destroy()
  })
  const put = (Item: Record<string, AttributeValue>) => dynamodb.send(new PutItemCommand({ TableName: name, Item }))
  await put(instance('good'))
  await put(instance('v3', { sv: { N: '3' } }))
  await put(instance('paused', { m: { S: '{"json":{"marks":{},"recent":[],"paused":true}}' } }))
  for (const [key, bad] of Object.entries(BAD)) await put(instance(key, bad.over))
  await put({ ...instance('j1'), pk: { S: `state#${JOINER}#j1` }, t: { S: JOINER }, k: { S: 'j1' }, state: { S: '{not json' } })
  await put(letter('good-1', GOOD_LETTER))
  await put(letter('bad-1', '{not json'))
  await put(letter('bad-2', '{"json":{"nothing":"here"}}'))
  // A summary whose whole letter's bytes are gone (its reference points nowhere), its own text unreadable too.
  await put({ ...letter('bad-3', '{not json'), payload: { M: { key: { S: 'dead/bad-3/x' }, bytes: { N: '10' }, sha256: { S: 'abc' } } } })
  // A summary that lost its reference: read as the whole letter, it would replay its placeholder.
  const placeholder = { envelope: { id: 'bad-4', type: 'h.poison', key: '', body: { '@troupe.deadLetter': { key: 'dead/bad-4/x', bytes: 500_000, sha256: 'abc' } }, correlationId: 'bad-4', sentAt: 1, attempt: 1 }, error: { name: 'Error', message: 'boom' }, attempts: [], deadAt: 1 }
  await put(letter('bad-4', encode(placeholder)))
  // A long id's letter is kept under its hash.
  await put({ ...letter('x', '{not json'), sk: { S: `h#${'ab'.repeat(32)}` } })
  // No death on it (no letter troupe writes lacks one).
  const { deadAt: _, ...noDeath } = letter('bad-5', '{not json')
  await put(noDeath)

  const inspector = new TableInspector({ dynamodb, tableName: name, kinesis, stream: name })
  t.teardown(() => inspector.close())

  const row = (await inspector.actors()).find((r) => r.type === TYPE)
  t.equal(row?.instances, 3 + Object.keys(BAD).length, 'every instance item is counted')
  t.equal(row?.unreadable, Object.keys(BAD).filter((k) => k.startsWith('meta') || k === 'no-version').length, 'those whose bookkeeping or version cannot be read, as unreadable')
  t.same(row?.pausedKeys, ['paused'], 'the readable pause is seen')

  const page = await inspector.instances(TYPE, { limit: 100 })
  const byKey = new Map(page.items.map((r) => [r.key, r]))
  t.same(byKey.get('good')?.state, { n: 1 }, 'a good item reads as ever')
  t.equal(byKey.get('good')?.unreadable, undefined, 'and is not called unreadable')
  t.equal(byKey.get('good')?.stateVersion, 1, 'an item without sv holds a state of version 1')
  t.match(byKey.get('v3'), { stateVersion: 3, state: { n: 1 } }, 'the state version an item holds is shown')
  t.equal(byKey.get('v3')?.unreadable, undefined)
  t.equal(byKey.get('sv-string')?.stateVersion, undefined, 'an sv that is no number is no state version')
  for (const [key, bad] of Object.entries(BAD)) {
    const listed = byKey.get(key)
    t.match(listed?.unreadable, bad.why, `${key}: named in the listing, with why`)
    t.match((await inspector.instance(TYPE, key))?.unreadable, bad.why, `${key}: and alone`)
  }
  t.equal(byKey.get('no-version')?.version, undefined, 'no version is shown as none, not NaN')
  t.same(byKey.get('no-version')?.state, { n: 1 }, 'what could be read of it is shown')

  const joins = await inspector.joins()
  t.match(joins.find((j) => j.forkId === 'j1')?.unreadable, /its state cannot be read/, 'a joiner whose state cannot be read is a row saying so')

  const dead = await inspector.dead()
  const hashed = `h#${'ab'.repeat(32)}`
  t.same(dead.map((d) => d.id).sort(), ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5', 'good-1', hashed].sort(), 'every letter is listed, the unreadable ones by their keys')
  for (const d of dead.filter((d) => d.id !== 'good-1')) t.equal(d.error.code, 'TROUPE_DEAD_LETTER_UNREADABLE', `${d.id}: unreadable`)
  t.match(dead.find((d) => d.id === 'bad-3')!.error.message, /the whole letter was kept under payload key dead\/bad-3\/x, and nothing is kept under it; its summary holds no dead letter/)
  t.match(dead.find((d) => d.id === 'bad-4')!.error.message, /the summary of a letter kept whole in the payload store, and the item no longer says where/)
  t.match(dead.find((d) => d.id === hashed)!.error.message, /its message id is not in its key .* so it cannot be replayed by id/)
  const bad1 = dead.find((d) => d.id === 'bad-1')!
  t.equal(bad1.type, 'h.poison', 'with the actor its item names')
  t.equal(bad1.error.code, 'TROUPE_DEAD_LETTER_UNREADABLE')
  t.match(bad1.error.message, /dead letter i#bad-1 \(actor h\.poison\) cannot be read: its text is no superjson document/)
  t.match(dead.find((d) => d.id === 'bad-2')!.error.message, /its text holds no dead letter/)
  t.same(dead.find((d) => d.id === 'good-1')?.body, { k: 'p' }, 'the good letter reads whole')

  const refused = await inspector.replay('bad-1').then(
    () => undefined,
    (e: unknown) => e as TroupeError,
  )
  t.equal(refused?.code, 'TROUPE_DEAD_LETTER_UNREADABLE', 'a replay of a letter that cannot be read is refused')
  t.ok((await inspector.dead()).some((d) => d.id === 'bad-1'), 'and the letter stays')
  const placeholderReplay = await inspector.replay('bad-4').then(
    () => undefined,
    (e: unknown) => e as TroupeError,
  )
  t.equal(placeholderReplay?.code, 'TROUPE_DEAD_LETTER_UNREADABLE', "a summary's placeholder is never replayed as the message's body")
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName: name })
  for (const id of ['bad-1', 'bad-4', 'bad-5']) {
    const took = await journal.takeDeadLetter(id).then(
      () => undefined,
      (e: unknown) => e as TroupeError,
    )
    t.equal(took?.code, 'TROUPE_DEAD_LETTER_UNREADABLE', `${id}: a take refuses it`)
  }
  t.same((await inspector.dead()).map((d) => d.id).sort(), ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5', 'good-1', hashed].sort(), 'and leaves each as it was (bad-5 has no death to match)')

  // The list of pauses (AwsSystem.pauses(), over --url) reads every item too.
  const pauses = new DurablePauses(new DynamoDBStateStore({ client: dynamodb, tableName: name }), async () => {}, () => Date.now())
  t.same(await pauses.list(), [{ type: TYPE, key: 'paused' }], 'the pauses are listed past the unreadable items')

  // The command line: a listing, a replay of everything, a bad cursor and a bad table name.
  const source = ['--table', name, '--endpoint', stack!.dynamodbEndpoint, '--stream', name, '--kinesis-endpoint', stack!.kinesisEndpoint]
  const listed = await json<Page<InstanceRow>>(t, ['state', TYPE, '--limit', '100'], source)
  t.equal(listed.items.filter((r) => r.unreadable !== undefined).length, Object.keys(BAD).length, 'state <type> --json names them')
  const text = await inspectCli(['state', TYPE, 'meta-null'], source)
  t.equal(text.code, 0)
  t.match(text.stdout, /\nUNREADABLE: its bookkeeping \(m\) cannot be read/, 'state <type> <key> says so in words')
  t.ok((await json<ActorRow[]>(t, ['actors'], source)).some((r) => r.type === TYPE && r.unreadable === 6), 'actors --json counts them')
  t.ok((await json<JoinRow[]>(t, ['joins'], source)).some((j) => j.forkId === 'j1' && j.unreadable !== undefined), 'joins --json names the joiner')
  t.equal((await json<DeadRow[]>(t, ['dead'], source)).length, 7, 'dead --json lists all seven')
  const all = await inspectCli(['dead', 'replay', '--all'], source)
  t.equal(all.code, 1, 'replay --all exits 1: six letters were not replayed')
  for (const id of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5', hashed]) t.match(all.stdout + all.stderr, id, `naming ${id}`)
  t.same((await inspector.dead()).map((d) => d.id).sort(), ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5', hashed].sort(), 'the good letter was replayed; the others stay')

  const cursor = await inspectCli(['state', TYPE, '--after', 'garbage'], source)
  t.equal(cursor.code, 1)
  t.match(cursor.stderr, /^troupe inspect: after: "garbage" is not a cursor of this listing; pass the 'next' of the page before\n$/, 'a bad cursor is one line')
  const table = await inspectCli(['actors'], ['--table', 'x', '--endpoint', stack!.dynamodbEndpoint])
  t.equal(table.code, 2, 'a table name DynamoDB would refuse is a usage error')
  t.match(table.stderr, /--table must be a DynamoDB table's name/)
})
