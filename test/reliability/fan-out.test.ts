// Fan-out of any size on AWS: one turn forks 10,000 children with 200-byte bodies. Its outbox
// (about 4 MB) cannot ride in the instance's item, so it waits in the overflow store, written
// before the commit; its children's replies cannot fit one joiner's item either, so a tree of
// joiners gathers them. The join runs once, with every reply, in fork order: on an in-process
// consumer and through the Lambda path, as it does in memory.
import t, { type Test } from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { rig } from '../lambda/fixtures/rig.js'
import { chaosSetup } from './fixtures/chaos-suite.js'
import { Fan, FAN_OUT_ACTORS, Gather, type GatherState } from './fixtures/fan-out.js'

const N = 10_000
const { stack, bundle } = chaosSetup()

async function joined(read: () => Promise<GatherState | undefined>, timeoutMs: number): Promise<GatherState | undefined> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const s = await read()
    if (s !== undefined || Date.now() > until) return s
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function check(t: Test, s: GatherState | undefined): void {
  t.same(s, { runs: 1, complete: true, replies: N, inOrder: true, missing: 0 }, `joined once, with all ${N} replies in fork order`)
}

t.test(`a fork of ${N} children on an in-process consumer`, async (t) => {
  const aws = clients(stack())
  const name = `fan-${process.pid}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 2 })
  const system = new AwsSystem({ actors: FAN_OUT_ACTORS, ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error', consumer: { batchSize: 1_000 } })
  t.teardown(() => system.stop())
  await system.tell(Fan, { job: 'big', n: N })
  await system.idle()
  check(t, await joined(() => system.state(Gather, 'big'), 60_000))
  t.same(await system.state(Fan, 'big'), { forked: 1 }, 'the forking turn ran once')
  t.equal((await system.deadLetters()).length, 0, 'nothing was dead-lettered')
})

t.test(`a fork of ${N} children through the Lambda path`, async (t) => {
  const r = await rig(t, stack(), bundle(), { actors: FAN_OUT_ACTORS, shards: 2, esm: { batchSize: 1_000 } })
  await r.producer.tell(Fan, { job: 'big', n: N })
  await r.settle(600_000)
  check(t, await joined(() => r.producer.state(Gather, 'big'), 60_000))
  t.same(await r.producer.state(Fan, 'big'), { forked: 1 }, 'the forking turn ran once')
  t.equal((await r.producer.deadLetters()).length, 0, 'nothing was dead-lettered')
  t.same(r.failures, [], 'the mapping gave up on nothing')
})
