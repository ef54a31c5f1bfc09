// An outbox's timer writes (lib/hosts/durable/outbox.ts): they go out at once, so of a timer the
// same outbox schedules and cancels, or schedules twice, only the last is written, whatever order
// the store completes them in. Pure: a timer store whose puts finish after its deletes.
import t from 'tap'
import { setImmediate as tick } from 'node:timers/promises'
import { OutboxSender, type OutboxEntry } from '../../lib/hosts/durable/outbox.js'
import type { JournalStore, TimerRecord, TimerStore } from '../../lib/store/index.js'

/** Puts land a tick late, deletes at once: without the rule, a put sent before a delete lands after it. */
function slowPuts() {
  const timers = new Map<string, TimerRecord>()
  const store = {
    async put(timer: TimerRecord) {
      await tick()
      timers.set(timer.id, timer)
    },
    delete(id: string) {
      timers.delete(id)
    },
  } as unknown as TimerStore
  const sender = new OutboxSender({ send: async () => ({ sent: 0, failed: 0, results: [] }) } as never, store, {} as JournalStore)
  return { timers, sender }
}

const timer = (id: string, dueAt: number): TimerRecord => ({ id, target: 'c', body: '{"json":{}}', dueAt }) as TimerRecord
const schedule = (id: string, dueAt: number): OutboxEntry => ({ kind: 'schedule', timer: timer(id, dueAt) })
const cancel = (id: string): OutboxEntry => ({ kind: 'cancel', timerId: id })

t.test('a timer scheduled and then cancelled by one outbox is not left scheduled', async (t) => {
  const { timers, sender } = slowPuts()
  await sender.send([schedule('x', 1), cancel('x')])
  t.notOk(timers.has('x'))
})

t.test('one cancelled and then scheduled again is scheduled; one scheduled twice keeps the later', async (t) => {
  const { timers, sender } = slowPuts()
  await sender.send([cancel('y'), schedule('y', 5), schedule('z', 1), schedule('z', 2), schedule('w', 3)])
  t.equal(timers.get('y')?.dueAt, 5)
  t.equal(timers.get('z')?.dueAt, 2)
  t.equal(timers.get('w')?.dueAt, 3, 'another timer is written as ever')
})
