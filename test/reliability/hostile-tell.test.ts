// Hostile bodies through `tell`, embedded and on the AWS mode (local servers): each is refused
// with a clear error naming the actor, or accepted and run; a good neighbour told after each one
// arrives; nothing pollutes Object.prototype.
import t, { type Test } from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack } from '../../lib/aws/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import type { System } from '../../lib/core/system.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { hostileBodies, type Expect } from './corpus/bodies.js'
import { Counter } from './fixtures/actors.js'
import { Sink } from './fixtures/sink.js'

const polluted = () => (({}) as Record<string, unknown>).polluted

async function feed(t: Test, system: System, settle: () => Promise<void>, mode: 'embedded' | 'aws') {
  let accepted = 0
  for (const entry of hostileBodies) {
    const expect: Expect = entry[mode]
    const outcome = await system.tell(entry.actor, entry.body()).then(
      () => undefined,
      (error: Error) => error,
    )
    if (expect === 'accepted') {
      t.equal(outcome, undefined, `${mode}: ${entry.name}: accepted`)
      if (entry.actor === Sink.type && outcome === undefined) accepted++
    } else {
      t.ok(outcome instanceof Error, `${mode}: ${entry.name}: refused at tell`)
      t.match(String(outcome?.message), expect, `${mode}: ${entry.name}: the error says why`)
    }
    await system.tell(Sink, { k: 'neighbour' })
  }
  await settle()
  t.equal(polluted(), undefined, `${mode}: no prototype pollution`)
  t.same(await system.state(Sink, 'neighbour'), { n: hostileBodies.length }, `${mode}: every neighbour arrived once`)
  t.same(await system.state(Sink, 'a'), { n: accepted }, `${mode}: every accepted hostile body had one turn`)
}

t.test('embedded', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Sink, Counter] })
  await feed(t, system, settle, 'embedded')
})

t.test('aws mode (kinesalite, dynalite)', async (t) => {
  const stack = await startLocalStack()
  t.teardown(() => stack.stop())
  const { kinesis, dynamodb } = clients(stack)
  const name = `rel-tell-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Sink, Counter], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error' })
  t.teardown(async () => {
    await system.stop()
    kinesis.destroy()
    dynamodb.destroy()
  })
  await feed(t, system, () => system.idle(), 'aws')
  t.same(await system.deadLetters(), [], 'nothing accepted became a dead letter')
})
