// Every log line of a turn in the durable host (the code under the shard consumer and the Lambda
// handler) names its message, as in the embedded system: the user's ctx.log lines and troupe's
// own lines about the message (its dead letter; a stateless turn whose messages were not sent),
// through troupe's JSON logger and through a real Powertools Logger (fromPowertools).
import t, { type Test } from 'tap'
import { Actor, type Context, type Logger } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { fromPowertools } from '../../lib/lambda/index.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { Doomed, Tally } from '../fixtures/log-actors.js'
import { capturedPowertools, type Line } from '../fixtures/powertools.js'

/** Stateless: what it tells goes out at once, and here the stream refuses it. */
class Relay extends Actor<{ k: string }> {
  static readonly type = 'relay'
  receive(msg: Relay['In'], ctx: Context) {
    ctx.log.info('relaying')
    ctx.tell(Tally, msg)
  }
}

const loggers: Record<string, (t: Test) => { logger: Logger; lines: Line[]; text: 'msg' | 'message' }> = {
  "troupe's JSON logger": () => {
    const lines: Line[] = []
    return { logger: createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Line)), lines, text: 'msg' }
  },
  'a Powertools Logger': (t) => {
    const { logger, lines } = capturedPowertools((fn) => t.teardown(fn))
    return { logger: fromPowertools(logger), lines, text: 'message' }
  },
}

function envelope(type: string, key: string, id: string, correlationId: string): Envelope {
  return makeEnvelope({ id: id as MessageId, type, key, body: { k: key || 'x' }, correlationId: correlationId as CorrelationId, sentAt: 1 })
}

/** A line's naming fields, only those it has: a field that should be absent must be. */
function ids(line: Line | undefined): Line {
  return Object.fromEntries(['actor', 'key', 'messageId', 'correlationId'].filter((k) => line !== undefined && k in line).map((k) => [k, line![k]]))
}

for (const [name, make] of Object.entries(loggers)) {
  t.test(`${name}: the durable host's lines of a turn name the message`, async (t) => {
    const c = make(t)
    const host = new DurableHost({
      actors: [Tally, Doomed, Relay],
      state: new MemoryStateStore(),
      timers: new MemoryTimerStore(),
      journal: new MemoryJournalStore(),
      messages: { send: () => Promise.reject(new Error('the stream is away')) },
      logger: c.logger,
    })
    const records = [envelope('tally', 'a', 'm-tally', 'corr-1'), envelope('doomed', 'b', 'm-doomed', 'corr-2'), envelope('relay', '', 'm-relay', 'corr-3')]
    const result = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records: records.map((e, i) => ({ sequenceNumber: String(100 + i), data: encodeRecord(e) })) })
    t.equal(result.failedFrom, '102', "the relay's turn is left for redelivery; the others are done")
    const said = (text: string) => c.lines.filter((l) => l[c.text] === text)

    t.same(ids(said('counted')[0]), { actor: 'tally', key: 'a', messageId: 'm-tally', correlationId: 'corr-1' })
    const failing = said('about to fail')
    t.same(
      failing.map((l) => [ids(l), l.attempt]),
      [1, 2].map((attempt) => [{ actor: 'doomed', key: 'b', messageId: 'm-doomed', correlationId: 'corr-2' }, attempt]),
      'each attempt, retried in place',
    )
    const dead = said('message dead-lettered')
    t.equal(dead.length, 1)
    t.same(ids(dead[0]), { actor: 'doomed', key: 'b', messageId: 'm-doomed', correlationId: 'corr-2' }, "troupe's dead letter line names the message as ctx.log does")
    t.match(dead[0], { attempts: 2, error: 'no luck' })

    t.same(ids(said('relaying')[0]), { actor: 'relay', messageId: 'm-relay', correlationId: 'corr-3' })
    const unsent = c.lines.filter((l) => String(l[c.text]).startsWith('outbox of a stateless turn not sent'))
    t.equal(unsent.length, 1)
    t.same(ids(unsent[0]), { actor: 'relay', messageId: 'm-relay', correlationId: 'corr-3' }, 'and so does its line of a send that failed')
  })
}
