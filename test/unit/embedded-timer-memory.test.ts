// The embedded timers' memory of the firings they sent (a named timer put again as it was, for a
// due time it fired at, sends nothing): as bounded as the AWS timer instance's, per timer, and
// forgotten as that instance is.
import t from 'tap'
import { FIRING_MEMORY_MS, REMEMBERED_FIRINGS } from '../../lib/core/schedule.js'
import { EmbeddedTimers } from '../../lib/hosts/embedded/embedded-timers.js'
import type { TimerRecord } from '../../lib/store/index.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'

function timersOn(clock: SimulatedClock) {
  // No actor is registered: each firing sent ends as a dead letter, which counts it.
  const told: string[] = []
  const registry = { find: () => undefined, names: () => [] } as never
  const dead = { add: (letter: { envelope: { id: string } }) => void told.push(letter.envelope.id) } as never
  const logger = { error() {} } as never
  const timers = new EmbeddedTimers(clock, { put() {}, due: () => [], delete() {} } as never, registry, dead, logger, () => {})
  const fire = (timers as unknown as { fire(t: TimerRecord): void }).fire.bind(timers)
  const memory = (timers as unknown as { sent: Map<string, { firings: string[] }> }).sent
  return { told, memory, fire: (id: string, set: string, dueAt: number) => fire({ id, set, dueAt, target: 'x', body: 'null', correlationId: 'c', fired: 0 } as TimerRecord) }
}

t.test('a named timer fired ten thousand times: the firings remembered stay bounded, as on AWS', async (t) => {
  const clock = new SimulatedClock()
  const { told, memory, fire } = timersOn(clock)
  const base = clock.now()
  for (let i = 0; i < 10_000; i++) {
    await clock.advance(1000)
    fire('every-second', 's1', base + i * 1000)
  }
  t.equal(told.length, 10_000, 'each firing sent once')
  t.equal(memory.size, 1, 'one timer remembered')
  t.equal(memory.get('every-second')?.firings.length, REMEMBERED_FIRINGS + 1, 'its last firing and those before it that AWS keeps')
  fire('every-second', 's1', base + 9_999 * 1000)
  fire('every-second', 's1', base + (9_999 - REMEMBERED_FIRINGS) * 1000)
  t.equal(told.length, 10_000, 'a firing remembered is not sent again')
  fire('every-second', 's2', base + 9_999 * 1000)
  t.equal(told.length, 10_001, 'another scheduling of the same due time is sent')
})

t.test('a timer that last fired FIRING_MEMORY_MS ago is forgotten', async (t) => {
  const clock = new SimulatedClock()
  const { told, memory, fire } = timersOn(clock)
  fire('a', 's', 1)
  await clock.advance(FIRING_MEMORY_MS / 2)
  fire('b', 's', 2)
  await clock.advance(FIRING_MEMORY_MS / 2)
  fire('c', 's', 3)
  t.same([...memory.keys()], ['b', 'c'], 'a forgotten, b and c kept')
  fire('a', 's', 1)
  t.equal(told.length, 4, 'so a firing of a is sent again after its memory is gone, as on AWS')
})
