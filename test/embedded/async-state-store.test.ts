// The embedded mode on an asynchronous state store (as the DynamoDB store is): an instance is
// written and deleted while messages keep coming. An evicted instance stays in memory until its
// write lands (a message meanwhile runs on it, a failed write leaves it there), and a new instance
// of a key whose delete is on its way reads the store only once the delete has landed.
import t from 'tap'
import { Actor, createSystem, MemoryStateStore, MemoryTimerStore, type Context } from '../../lib/index.js'
import type { StateStore, StoredInstance } from '../../lib/store/index.js'

class Counter extends Actor<{ k: string; reset?: boolean }, number | undefined, { n: number }> {
  static readonly type = 'counter'
  key(msg: Counter['In']) {
    return msg.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(msg: Counter['In'], ctx: Context<{ n: number } | undefined>) {
    if (msg.reset) {
      ctx.state = undefined
      return undefined
    }
    ctx.state!.n++
    return ctx.state!.n
  }
}

/** A memory store whose writes and deletes wait until the test lets them through, or fail. */
class GatedStore implements StateStore {
  readonly inner = new MemoryStateStore()
  private gate: Promise<void> | undefined
  private open: (() => void) | undefined
  failWrites = false

  hold(): void {
    this.gate = new Promise<void>((resolve) => (this.open = resolve))
  }

  release(): void {
    this.open?.()
    this.gate = undefined
  }

  async get(type: string, key: string): Promise<StoredInstance | undefined> {
    return this.inner.get(type, key)
  }

  async put(type: string, key: string, value: StoredInstance, expected: number | undefined, at?: number): Promise<void> {
    await this.gate
    if (this.failWrites) throw new Error('ProvisionedThroughputExceededException (injected)')
    this.inner.put(type, key, value, expected, at)
  }

  async delete(type: string, key: string): Promise<void> {
    await this.gate
    this.inner.delete(type, key)
  }
}

function system(state: GatedStore) {
  const sys = createSystem({ actors: [Counter], stores: { state, timers: new MemoryTimerStore() }, logLevel: 'silent' })
  t.teardown(() => sys.stop().catch(() => undefined))
  return sys
}

t.test('a message that comes while an eviction is being written runs on the instance, and the eviction gives way', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'a' })
  await sys.ask(Counter, { k: 'a' })
  state.hold()
  const evicting = sys.evict(Counter, 'a')
  t.equal(await sys.ask(Counter, { k: 'a' }), 3, 'the count goes on from 2, not from a store that does not have it yet')
  state.release()
  t.equal(await evicting, false, 'not evicted: it ran again while its write was on its way')
  t.equal(state.inner.get('counter', 'a')?.version, 1, 'the write landed')
  t.equal(await sys.evict(Counter, 'a'), true, 'the next eviction writes after it')
  t.equal(await sys.ask(Counter, { k: 'a' }), 4, 'and the instance comes back with its count')
})

t.test('an eviction whose write fails leaves the instance in memory, and the next write still lands', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'b' })
  await sys.ask(Counter, { k: 'b' })
  state.failWrites = true
  await t.rejects(sys.evict(Counter, 'b'), /ProvisionedThroughputExceededException/)
  state.failWrites = false
  t.equal(await sys.ask(Counter, { k: 'b' }), 3, 'the counts before the failed write are there')
  t.equal(await sys.evict(Counter, 'b'), true, 'written, conditional on the version the store has')
  t.equal(state.inner.get('counter', 'b')?.version, 1)
  t.equal(await sys.ask(Counter, { k: 'b' }), 4)
})

t.test('an instance its turn deleted does not come back from the store while the delete is on its way', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'c' })
  await sys.ask(Counter, { k: 'c' })
  t.equal(await sys.evict(Counter, 'c'), true)
  state.hold()
  await sys.ask(Counter, { k: 'c', reset: true })
  const next = sys.ask(Counter, { k: 'c' })
  state.release()
  t.equal(await next, 1, 'the next message starts from the initial state, not from the deleted count of 2')
  t.equal(state.inner.get('counter', 'c'), undefined, 'the store holds nothing of the deleted instance')
})
