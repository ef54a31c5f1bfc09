// A timer's name with a lone surrogate is refused where it is cancelled, as where it is scheduled:
// in DynamoDB's key it would become U+FFFD, and the cancel would remove another timer.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { startLocalStack, clients } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { DynamoDBTimerStore } from '../../lib/store/dynamodb.js'

t.test('ctx.cancelSchedule and system.cancelSchedule refuse a name with a lone surrogate, as schedule does', async (t) => {
  const errors: string[] = []
  class Planner extends Actor<{ op: 'cancel' }> {
    static readonly type = 'rv.planner'
    static readonly policy = { maxAttempts: 1 }
    receive(_m: Planner['In'], ctx: Context) {
      try {
        ctx.cancelSchedule('x\uD800')
      } catch (e) {
        errors.push((e as { code?: string }).code ?? '')
      }
    }
  }
  const { system, clock } = createTestSystem({ actors: [Planner] })
  await t.rejects(Promise.resolve().then(() => system.schedule(Planner, { op: 'cancel' }, { afterMs: 10, name: 'x\uD800' })), { code: 'TROUPE_CONFIG' }, 'schedule refuses it')
  await t.rejects(Promise.resolve().then(() => system.cancelSchedule('x\uD800')), { code: 'TROUPE_CONFIG' }, 'system.cancelSchedule refuses it too')
  await system.tell(Planner, { op: 'cancel' })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.done + system.inspect().actors[0]!.counts.dead === 1)
  t.same(errors, ['TROUPE_CONFIG'], 'ctx.cancelSchedule refuses it too')
})

t.test('on the table: a cancel of a name with a lone surrogate is refused, and removes no other timer', async (t) => {
  const stack = await startLocalStack({ shardLimit: 100 })
  t.teardown(() => stack.stop())
  const { dynamodb, kinesis } = clients(stack)
  const tableName = `rv-sur-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName, streams: [tableName], shards: 1 })
  const timers = new DynamoDBTimerStore({ client: dynamodb, tableName })
  await timers.put({ id: 'x\uFFFD', target: 't', body: '{"json":null}', dueAt: Date.now() + 60_000, correlationId: 'c', fired: 0 })
  t.ok(await timers.get('x\uFFFD'), 'the timer named x\\uFFFD is there')
  await t.rejects(Promise.resolve().then(() => timers.delete('x\uD800')), { code: 'TROUPE_CONFIG' }, 'the store refuses a cancel of x\\uD800')
  t.ok(await timers.get('x\uFFFD'), 'and the timer named x\\uFFFD is still there')
})
