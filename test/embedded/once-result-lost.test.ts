// In the embedded mode, a ctx.once result superjson would not carry is a dead letter at once, and a
// later run of the message (its replayed letter) is told that fn ran (OnceResultLostError) instead of
// calling fn again, as a record tells it on AWS.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

t.test('embedded, at least once: a replayed letter of a message whose once result could not be kept does not call fn again', async (t) => {
  let calls = 0
  const errors: string[] = []
  class Charge extends Actor<{ order: string }> {
    static readonly type = 'rv.charge'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 5 }
    async receive(_msg: Charge['In'], ctx: Context) {
      try {
        // A result superjson would not carry (a function): NotSerializableError after fn ran.
        await ctx.once('charge', () => (calls++, { receipt: 'r1', cancel: () => 1 }))
      } catch (e) {
        errors.push(`${(e as { code?: string }).code ?? (e as Error).name}`)
        throw e
      }
    }
  }
  const { system, clock } = createTestSystem({ actors: [Charge], checkSerializable: true })
  await system.tell(Charge, { order: 'o1' })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.dead === 1)
  t.equal(calls, 1, 'fn ran once, and the message is dead at once')
  const [letter] = await system.deadLetters()
  t.ok(letter)
  await system.replay(letter!.envelope.id)
  await clock.runUntil(() => system.inspect().actors[0]!.counts.dead === 2 || system.inspect().actors[0]!.counts.done === 1)
  t.equal(calls, 1, 'the replay does not call fn again (docs: it gets OnceResultLostError)')
  t.match(errors[1], /TROUPE_ONCE_RESULT_LOST|OnceResultLostError/, 'the replay is told the side effect ran')
})
