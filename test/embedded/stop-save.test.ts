// What stop() writes to a state store: every instance in memory, but none a turn that outlived the
// stop ended meanwhile. Ending the last instance of a type gives the type a new map of instances
// (lib/core/map-without.ts) while stop's walk over the old one waits for a write.
import t from 'tap'
import { Actor, createSystem, type Context } from '../../lib/index.js'
import { MemoryStateStore } from '../../lib/store/memory.js'
import type { StoredInstance } from '../../lib/store/index.js'

function later<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

t.test('an instance a late turn ends while stop saves the others is not written back', async (t) => {
  const turnsGo = later()
  class Session extends Actor<{ k: string }, void, { n: number } | undefined> {
    static readonly type = 'session'
    key(msg: Session['In']) {
      return msg.k
    }
    initialState() {
      return { n: 0 }
    }
    async receive(_msg: Session['In'], ctx: Context<{ n: number } | undefined>) {
      await turnsGo.promise
      ctx.state = undefined
    }
  }
  // A store whose write of `a` during the stop waits until both late turns have ended their instances.
  const inner = new MemoryStateStore()
  const savingA = later()
  const writeA = later()
  const deleted = new Set<string>()
  const bothDeleted = later()
  let stopping = false
  const state = {
    get: (type: string, key: string) => inner.get(type, key),
    async put(type: string, key: string, value: StoredInstance, expected: number | undefined, expectedUpdatedAt?: number) {
      if (stopping && key === 'a') {
        savingA.resolve()
        await writeA.promise
      }
      inner.put(type, key, value, expected, expectedUpdatedAt)
    },
    delete(type: string, key: string) {
      inner.delete(type, key)
      deleted.add(key)
      if (deleted.has('a') && deleted.has('b')) bothDeleted.resolve()
    },
  }
  const system = createSystem({ actors: [Session], stores: { state }, logLevel: 'silent' })
  await system.tell(Session, { k: 'a' })
  await system.tell(Session, { k: 'b' })
  stopping = true
  const stopped = system.stop({ timeoutMs: 20 })
  await savingA.promise
  turnsGo.resolve()
  await bothDeleted.promise
  writeA.resolve()
  const report = await stopped
  t.equal(report.drained, 2, 'both late turns ended before stop() returned')
  t.equal(inner.get('session', 'b'), undefined, 'b, ended while a was written, stays deleted')
})
