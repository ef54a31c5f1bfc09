// A named timer set outside a turn is the same scheduling only when scheduled again just as it was:
// for another target (the same body and due time) it is a new timer, whose firing is a new message
// that reaches its target, in the embedded mode and on AWS (where the timer's instance would
// otherwise take it for a copy of the first firing).
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { embeddedMode } from '../fixtures/conformance/embedded-mode.js'
import { eventually, start } from '../fixtures/conformance/helpers.js'
import type { Mode } from '../fixtures/conformance/mode.js'

type S = { tags: string[]; ids: string[] }
class First extends Actor<{ k: string; tag: string }, void, S> {
  static readonly type = 'rv.tm.first'
  key(m: First['In']) {
    return m.k
  }
  initialState(): S {
    return { tags: [], ids: [] }
  }
  receive(m: First['In'], ctx: Context<S>) {
    ctx.state.tags.push(m.tag)
    ctx.state.ids.push(ctx.message.id)
  }
}
class Second extends Actor<{ k: string; tag: string }, void, S> {
  static readonly type = 'rv.tm.second'
  key(m: Second['In']) {
    return m.k
  }
  initialState(): S {
    return { tags: [], ids: [] }
  }
  receive(m: Second['In'], ctx: Context<S>) {
    ctx.state.tags.push(m.tag)
    ctx.state.ids.push(ctx.message.id)
  }
}

function cases(t: Test, mode: Mode): void {
  t.test(`${mode.name}: a name scheduled again outside a turn for another target fires there`, async (t) => {
    const { system } = await start(t, mode, { actors: [First, Second] })
    const at = Date.now() - 60_000
    await system.schedule(First, { k: 'x', tag: 't' }, { at, name: 'rv-moved' })
    const a = await eventually('the first fired', () => system.state(First, 'x'), (s) => (s?.tags.length ?? 0) === 1)
    await system.schedule(Second, { k: 'x', tag: 't' }, { at, name: 'rv-moved' })
    const b = await eventually('the second fired', () => system.state(Second, 'x'), (s) => (s?.tags.length ?? 0) === 1)
    t.same(b?.tags, ['t'], 'Second got its timer\'s message')
    t.not(b?.ids[0], a?.ids[0], 'a new message, not the first firing\'s id')
  })
}

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 10_000 })
})
t.teardown(() => stack?.stop())
cases(t, embeddedMode)
cases(t, awsMode(() => stack!))
