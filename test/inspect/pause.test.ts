// Pause and resume on the embedded and the AWS mode (the same cases the conformance suite runs
// in every mode, here alone for a quick check).
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { awsMode } from '../fixtures/aws-mode.js'
import { embeddedMode } from '../fixtures/conformance/embedded-mode.js'
import { pausing } from '../fixtures/conformance/pausing.js'
import { AWAIT, start } from '../fixtures/conformance/helpers.js'
import { Actor, TerminalError, type Context } from '../../lib/index.js'

let stack: LocalStack | undefined
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 10_000 })
})
t.teardown(() => stack?.stop())

t.test('embedded', async (t) => pausing(t, embeddedMode))
t.test('aws', async (t) => pausing(t, awsMode(() => stack!)))

/** Counts its turns in this process; fails for good on `poison`. */
const turns = { poison: 0 }
class Picky extends Actor<{ k: string; poison?: boolean }, void, { ok: number }> {
  static readonly type = 'pa.picky'
  key(msg: Picky['In']) {
    return msg.k
  }
  initialState() {
    return { ok: 0 }
  }
  receive(msg: Picky['In'], ctx: Context<{ ok: number }>) {
    if (msg.poison) {
      turns.poison++
      throw new TerminalError('refused')
    }
    ctx.state.ok++
  }
}

for (const [name, mode] of [['embedded', () => embeddedMode], ['aws', () => awsMode(() => stack!)]] as const) {
  t.test(`${name}: a held message that fails for good runs once after resume; a key paused alone stays paused when its type resumes`, async (t) => {
    turns.poison = 0
    const { system } = await start(t, mode(), { actors: [Picky] })
    await system.pause(Picky, 'p')
    const poison = await system.tell(Picky, { k: 'p', poison: true }, { receipt: true })
    const good = await system.tell(Picky, { k: 'p' }, { receipt: true })
    await system.awaitReceipt(good, { ...AWAIT, status: ['paused'] })
    await system.resume(Picky, 'p')
    t.equal((await system.awaitReceipt(poison, AWAIT)).status, 'dead')
    t.equal((await system.awaitReceipt(good, AWAIT)).status, 'done')
    await new Promise((r) => setTimeout(r, 500)) // time for a wrongly repeated turn to show
    t.equal(turns.poison, 1, 'the poison message ran once')
    t.equal((await system.deadLetters()).length, 1)

    await system.pause(Picky, 'q')
    await system.pause(Picky)
    await system.resume(Picky)
    t.same(await system.pauses(), [{ type: Picky.type, key: 'q' }], 'q is still paused')
  })
}
