// An outbox's timer writes (lib/hosts/durable/outbox.ts): they go out at once, so of a timer the
// same outbox schedules and cancels, or schedules twice, only the last is written, whatever order
// the store completes them in. Pure: a timer store whose writes land out of order.
import t from 'tap'
import { setImmediate as tick } from 'node:timers/promises'
import { OutboxSender, type OutboxEntry } from '../../lib/hosts/durable/outbox.js'
import type { JournalStore, TimerRecord, TimerStore } from '../../lib/store/index.js'

/**
 * A timer store whose writes land `delayOf(what, dueAt)` ticks late: without the rule, writes sent
 * in one order land in another.
 */
function store(delayOf: (what: 'put' | 'delete', dueAt: number) => number) {
  const timers = new Map<string, TimerRecord>()
  const late = async (ticks: number) => {
    for (let i = 0; i < ticks; i++) await tick()
  }
  const timerStore = {
    async put(timer: TimerRecord) {
      await late(delayOf('put', timer.dueAt))
      timers.set(timer.id, timer)
    },
    async delete(id: string) {
      await late(delayOf('delete', 0))
      timers.delete(id)
    },
  } as unknown as TimerStore
  const woken: number[] = []
  const sender = new OutboxSender({ send: async () => ({ sent: 0, failed: 0, results: [] }) } as never, timerStore, {} as JournalStore, (dueAt) => woken.push(dueAt))
  return { timers, sender, woken }
}

const timer = (id: string, dueAt: number): TimerRecord => ({ id, target: 'c', body: '{"json":{}}', dueAt }) as TimerRecord
const schedule = (id: string, dueAt: number): OutboxEntry => ({ kind: 'schedule', timer: timer(id, dueAt) })
const cancel = (id: string): OutboxEntry => ({ kind: 'cancel', timerId: id })

t.test('a timer scheduled and then cancelled by one outbox is not left scheduled', async (t) => {
  const { timers, sender, woken } = store((what) => (what === 'put' ? 1 : 0))
  await sender.send([schedule('x', 1), cancel('x')])
  t.notOk(timers.has('x'))
  t.same(woken, [], 'no wake-up for a timer not written')
})

t.test('one cancelled and then scheduled again is scheduled', async (t) => {
  const { timers, sender, woken } = store((what) => (what === 'delete' ? 1 : 0))
  await sender.send([cancel('y'), schedule('y', 5)])
  t.equal(timers.get('y')?.dueAt, 5)
  t.same(woken, [5])
})

t.test('one scheduled twice keeps the later; another timer is written as ever', async (t) => {
  const { timers, sender, woken } = store((_, dueAt) => (dueAt === 1 ? 2 : 0))
  await sender.send([schedule('z', 1), schedule('z', 2), schedule('w', 3)])
  t.equal(timers.get('z')?.dueAt, 2)
  t.equal(timers.get('w')?.dueAt, 3)
  t.same(woken.sort(), [2, 3], 'a wake-up for each timer written')
})
