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

/**
 * A memory store whose writes and deletes wait while the test holds them, then land in the order
 * it says (a store with several connections may answer a later write first), or fail.
 */
class GatedStore implements StateStore {
  readonly inner = new MemoryStateStore()
  private held: (() => void)[] | undefined
  failWrites = false
  /** The next write lands, and its answer is lost (a timeout after the write, an SDK retry that meets it). */
  landThenFail = false

  hold(): void {
    this.held = []
  }

  /** Lets the held writes land, in the order they came, or the last first. */
  async release(order: 'in order' | 'last first' = 'in order'): Promise<void> {
    const held = this.held ?? []
    this.held = undefined
    for (const land of order === 'in order' ? held : held.reverse()) {
      land()
      // Each lands before the next goes.
      await turns()
    }
  }

  async get(type: string, key: string): Promise<StoredInstance | undefined> {
    return this.inner.get(type, key)
  }

  async put(type: string, key: string, value: StoredInstance, expected: number | undefined, at?: number): Promise<void> {
    await this.wait()
    if (this.failWrites) throw new Error('ProvisionedThroughputExceededException (injected)')
    this.inner.put(type, key, value, expected, at)
    if (this.landThenFail) {
      this.landThenFail = false
      throw new Error('TimeoutError after the write landed (injected)')
    }
  }

  async delete(type: string, key: string): Promise<void> {
    await this.wait()
    this.inner.delete(type, key)
  }

  private wait(): Promise<void> | undefined {
    const held = this.held
    return held === undefined ? undefined : new Promise<void>((resolve) => held.push(resolve))
  }
}

/** Microtask turns enough for a turn, or a stop, to reach its store write. */
async function turns(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** A system on `state`, stopped after the test (a test may stop it itself). */
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
  await state.release()
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
  await state.release()
  t.equal(await next, 1, 'the next message starts from the initial state, not from the deleted count of 2')
  t.equal(state.inner.get('counter', 'c'), undefined, 'the store holds nothing of the deleted instance')
})

t.test('a stop while an eviction is being written waits for it, and writes nothing over it', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'd' })
  await sys.ask(Counter, { k: 'd' })
  state.hold()
  const evicting = sys.evict(Counter, 'd')
  const stopping = sys.stop()
  await turns()
  // A later write landing first would meet a store without the eviction's version: a conflict.
  await state.release('last first')
  t.equal(await evicting, true)
  t.strictSame(await stopping, { drained: 0, deadLettered: 0, stillRunning: 0, leftInStream: 0 }, 'the stop ends without an error')
  t.equal(state.inner.get('counter', 'd')?.version, 1, 'written once, by the eviction')
  t.equal(state.inner.get('counter', 'd')?.state, '{"json":{"n":2}}')
})

t.test('an instance deleted while its eviction is being written stays deleted, whichever write lands first', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'e' })
  await sys.ask(Counter, { k: 'e' })
  state.hold()
  const evicting = sys.evict(Counter, 'e')
  await sys.ask(Counter, { k: 'e', reset: true })
  await turns()
  await state.release('last first')
  t.equal(await evicting, false, 'not evicted: deleted meanwhile')
  t.equal(state.inner.get('counter', 'e'), undefined, 'the delete went after the write')
  t.equal(await sys.ask(Counter, { k: 'e' }), 1, 'the next message starts from the initial state')
})

t.test('an eviction whose write landed but whose answer was lost keeps the version the store has', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'f' })
  state.landThenFail = true
  await t.rejects(sys.evict(Counter, 'f'), /TimeoutError/)
  t.equal(state.inner.get('counter', 'f')?.version, 1, 'the write landed')
  t.equal(await sys.ask(Counter, { k: 'f' }), 2)
  t.equal(await sys.evict(Counter, 'f'), true, 'the next write follows it, no conflict')
  t.equal(await sys.ask(Counter, { k: 'f' }), 3)
  await sys.stop()
  t.equal(state.inner.get('counter', 'f')?.state, '{"json":{"n":3}}', 'the stop wrote the latest count')
})

t.test('an eviction asked for while another is on its way answers false, and a stop waits for the one on its way', async (t) => {
  const state = new GatedStore()
  const sys = system(state)
  await sys.ask(Counter, { k: 'g' })
  state.hold()
  const first = sys.evict(Counter, 'g')
  t.equal(await sys.ask(Counter, { k: 'g' }), 2, 'runs on the instance while its write is held')
  t.equal(await sys.evict(Counter, 'g'), false, 'one eviction at a time')
  const stopping = sys.stop()
  await turns()
  await state.release('last first')
  t.equal(await first, false, 'it ran again while its write was on its way')
  await stopping
  t.equal(state.inner.get('counter', 'g')?.state, '{"json":{"n":2}}', 'the stop wrote the count after the eviction')
  t.equal(state.inner.get('counter', 'g')?.version, 2)
})
