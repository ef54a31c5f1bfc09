// Every log line of a turn names its message, with either logger: troupe's JSON lines and a real
// Powertools for AWS Lambda Logger (through fromPowertools). The user's ctx.log lines, and the line
// troupe writes when the message dies, carry the same actor, key, message id and correlation id.
import t, { type Test } from 'tap'
import { Actor, createLogger, type Context, type Logger } from '../../lib/index.js'
import { fromPowertools } from '../../lib/lambda/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { Doomed, Tally } from '../fixtures/log-actors.js'
import { capturedPowertools, type Line } from '../fixtures/powertools.js'

/** Stateless and unkeyed: its lines have no `key`. */
class Ping extends Actor<{ n: number }> {
  static readonly type = 'ping'
  receive(msg: Ping['In'], ctx: Context) {
    ctx.log.debug('pinged', { n: msg.n })
  }
}

interface Capture {
  logger: Logger
  lines: Line[]
  /** The key of a line's text, and how its levels are written. */
  text: 'msg' | 'message'
  level(name: 'debug' | 'info' | 'warn'): string
}

const loggers: Record<string, (t: Test) => Capture> = {
  "troupe's JSON logger": () => {
    const lines: Line[] = []
    return { logger: createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Line)), lines, text: 'msg', level: (name) => name }
  },
  'a Powertools Logger': (t) => {
    const { logger, lines } = capturedPowertools((fn) => t.teardown(fn))
    return { logger: fromPowertools(logger), lines, text: 'message', level: (name) => name.toUpperCase() }
  },
}

/** A line's naming fields, only those it has: a field that should be absent must be. */
function ids(line: Line | undefined): Line {
  return Object.fromEntries(['actor', 'key', 'messageId', 'correlationId'].filter((k) => line !== undefined && k in line).map((k) => [k, line![k]]))
}

for (const [name, make] of Object.entries(loggers)) {
  t.test(`${name}: a turn's lines and its dead letter's line name the message`, async (t) => {
    const c = make(t)
    const { system, settle } = createTestSystem({ actors: [Tally, Doomed, Ping], logger: c.logger })
    const counted = await system.tell(Tally, { k: 'a' }, { correlationId: 'corr-1' })
    const doomed = await system.tell(Doomed, { k: 'b' }, { correlationId: 'corr-2' })
    const pinged = await system.tell(Ping, { n: 7 })
    await settle()
    await system.stop()
    const said = (text: string) => c.lines.filter((l) => l[c.text] === text)

    const [count] = said('counted')
    t.same(ids(count), { actor: 'tally', key: 'a', messageId: counted, correlationId: 'corr-1' })
    t.match(count, { [c.text]: 'counted', level: c.level('info'), n: 1 })

    const failing = said('about to fail')
    t.equal(failing.length, 2, 'one line per attempt')
    for (const line of failing) t.same(ids(line), { actor: 'doomed', key: 'b', messageId: doomed, correlationId: 'corr-2' })
    t.same(failing.map((l) => l.attempt), [1, 2])

    const [dead, ...more] = said('message dead-lettered')
    t.equal(more.length, 0)
    t.same(ids(dead), { actor: 'doomed', key: 'b', messageId: doomed, correlationId: 'corr-2' }, "troupe's own line names the message as ctx.log does")
    t.match(dead, { level: c.level('warn'), attempts: 2, error: 'no luck' })

    const [ping] = said('pinged')
    t.same(ids(ping), { actor: 'ping', messageId: pinged, correlationId: pinged }, 'an unkeyed message: no key; its own id is its correlation id')
    t.match(ping, { level: c.level('debug'), n: 7 })
    if (c.text === 'message') for (const line of c.lines) t.equal(line.service, 'troupe-test', "every line is the Powertools logger's")
  })
}

t.test("fromPowertools: a child's fields join each line; a line's own fields win", async (t) => {
  const { logger, lines } = capturedPowertools((fn) => t.teardown(fn))
  const root = fromPowertools(logger)
  const child = root.child({ actor: 'a', messageId: 'm1' }).child({ key: 'k' })
  child.info('one', { messageId: 'm2', n: 1 })
  child.error('two')
  root.warn('three', { n: 3 })
  t.match(lines, [
    { level: 'INFO', message: 'one', actor: 'a', key: 'k', messageId: 'm2', n: 1 },
    { level: 'ERROR', message: 'two', actor: 'a', key: 'k', messageId: 'm1' },
    { level: 'WARN', message: 'three', n: 3 },
  ])
  t.notOk('actor' in lines[2]!, "the root's lines have none of a child's fields")
  logger.appendKeys({ requestId: 'r-1' })
  child.info('four')
  t.match(lines[3], { message: 'four', actor: 'a', requestId: 'r-1' }, 'keys added to the Powertools logger later reach lines of children made before')
})
