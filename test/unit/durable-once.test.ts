// ctx.once in the durable host: a turn that runs again (its commit lost to a conflict, or failed
// and redelivered), in the same host or in another one that shares the side-effect store, does
// not run its side effect again; at most once, a claim without a result is an error the turn sees.
import t from 'tap'
import { Actor, OnceInterruptedError, type Context, type OnceOptions } from '../../lib/index.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { StoreConflictError, TroupeError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import type { SideEffectRecord, SideEffectStore, StoredInstance } from '../../lib/store/index.js'
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import { MemoryPayloadStore, type PayloadStore } from '../../lib/store/payload-store.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'

/** A state store whose next `fails` puts of `pay` items throw what `error` makes. */
class FailingPuts extends MemoryStateStore {
  constructor(
    private fails: number,
    private readonly error: (type: string, key: string, expected: number | undefined) => Error,
  ) {
    super()
  }

  override put(type: string, key: string, value: StoredInstance, expected: number | undefined, expectedUpdatedAt?: number) {
    if (type === 'pay' && this.fails-- > 0) throw this.error(type, key, expected)
    return super.put(type, key, value, expected, expectedUpdatedAt)
  }
}

interface Options {
  sideEffects?: SideEffectStore
  overflow?: PayloadStore
  semantics?: OnceOptions['semantics']
  /** What the side effect returns. */
  result?: () => unknown
  /** The turn's answer to an OnceInterruptedError (else it throws on). */
  interrupted?: (e: OnceInterruptedError) => number
  /** What the turn does with the result it got, in each attempt. */
  use?: (result: unknown, attempt: number) => void
  /** The message's key (default 'a'). */
  key?: string
}

function setup(state: MemoryStateStore, options: Options = {}) {
  const charges: string[] = []
  const { semantics, result, interrupted, use } = options
  class Pay extends Actor<{ k: string }, number, { n: number }> {
    static readonly type = 'pay'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }
    key(b: { k: string }) {
      return b.k
    }
    initialState() {
      return { n: 0 }
    }
    async receive(b: { k: string }, ctx: Context<{ n: number }>) {
      try {
        const got = await ctx.once('charge', () => (charges.push(b.k), result ? result() : charges.length), semantics ? { semantics } : undefined)
        use?.(got, ctx.attempt)
      } catch (e) {
        if (!(e instanceof OnceInterruptedError && interrupted)) throw e
        ctx.state.n += interrupted(e)
        return ctx.state.n
      }
      ctx.state.n++
      return ctx.state.n
    }
  }
  const journal = new MemoryJournalStore()
  const host = new DurableHost({
    actors: [Pay],
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: () => Promise.reject(new Error('this actor sends nothing')) },
    logger: createLogger('silent'),
    ...(options.sideEffects ? { sideEffects: options.sideEffects } : {}),
    ...(options.overflow ? { overflow: options.overflow } : {}),
  })
  const id = 'm1' as MessageId
  const key = options.key ?? 'a'
  const envelope = makeEnvelope({ id, type: 'pay', key, body: { k: key }, correlationId: id as string as CorrelationId, sentAt: 1 })
  const batch = { stream: 's', shardId: 'shardId-000000000000', records: [{ sequenceNumber: '100', data: encodeRecord(envelope) }] }
  return { host, charges, batch, journal }
}

t.test('a turn rerun after a lost conditional write does not charge again', async (t) => {
  const state = new FailingPuts(1, (type, key, expected) => new StoreConflictError(`${type}#${key}`, expected))
  const { host, charges, batch } = setup(state)
  const result = await host.handle(batch)
  t.equal(result.conflicts, 1, 'the first commit lost')
  t.equal(result.failedFrom, undefined, 'the rerun committed')
  t.same(charges, ['a'], 'the side effect ran once')
  t.equal((await state.get('pay', 'a'))?.version, 1)
})

t.test('a turn redelivered after its commit failed does not charge again in the same host', async (t) => {
  const state = new FailingPuts(1, () => new Error('DynamoDB did not answer'))
  const { host, charges, batch } = setup(state)
  t.equal((await host.handle(batch)).failedFrom, '100', 'left for redelivery')
  t.equal((await host.handle(batch)).failedFrom, undefined, 'the redelivery committed')
  t.same(charges, ['a'], 'the side effect ran once')
})

t.test('a turn redelivered to another host after its commit failed finds the recorded result there: no second charge', async (t) => {
  const state = new FailingPuts(1, () => new Error('the environment died before its commit'))
  const sideEffects = new MemorySideEffects()
  const first = setup(state, { sideEffects })
  t.equal((await first.host.handle(first.batch)).failedFrom, '100', 'left for redelivery')
  const second = setup(state, { sideEffects })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined, 'the other host committed')
  t.same([...first.charges, ...second.charges], ['a'], 'charged once, by the first host')
  t.equal(sideEffects.get('m1', 'charge', Date.now())?.status, 'done', 'the record the second host read')
})

t.test('at least once: a side effect whose record was lost runs again on the next host (the documented window)', async (t) => {
  const state = new FailingPuts(1, () => new Error('the environment died before its commit'))
  /** A store whose first put is lost: the host dies between the side effect and its record. */
  class LostPut extends MemorySideEffects {
    lost = 1
    override put(record: SideEffectRecord) {
      if (this.lost-- > 0) throw new Error('died before the record')
      super.put(record)
    }
  }
  const sideEffects = new LostPut()
  const first = setup(state, { sideEffects })
  t.equal((await first.host.handle(first.batch)).failedFrom, '100')
  const second = setup(state, { sideEffects })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined)
  t.same([...first.charges, ...second.charges], ['a', 'a'], 'one run per host: the record of the first never came')
})

t.test('at most once: a call whose result was recorded answers the next host with it, never a second charge', async (t) => {
  const state = new FailingPuts(1, () => new Error('the environment died before its commit'))
  const sideEffects = new MemorySideEffects()
  const first = setup(state, { sideEffects, semantics: 'at-most-once' })
  t.equal((await first.host.handle(first.batch)).failedFrom, '100')
  t.equal(sideEffects.get('m1', 'charge', Date.now())?.status, 'done', 'the claim, then the result: two writes')
  const second = setup(state, { sideEffects, semantics: 'at-most-once' })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined)
  t.same([...first.charges, ...second.charges], ['a'], 'charged once')
})

t.test('at most once: a host cut off between the claim and the result leaves the claim alone; the next gets OnceInterruptedError', async (t) => {
  const state = new FailingPuts(1, () => new Error('the environment died before its commit'))
  /** The result's write is lost: the host died right after the side effect. */
  class ClaimOnly extends MemorySideEffects {
    override put(record: SideEffectRecord) {
      if (record.status === 'done') throw new Error('died before the result was recorded')
      super.put(record)
    }
  }
  const sideEffects = new ClaimOnly()
  const seen: OnceInterruptedError[] = []
  const interrupted = (e: OnceInterruptedError) => (seen.push(e), 100)
  const first = setup(state, { sideEffects, semantics: 'at-most-once', interrupted })
  t.equal((await first.host.handle(first.batch)).failedFrom, '100')
  const second = setup(state, { sideEffects, semantics: 'at-most-once', interrupted })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined, 'the turn handled the error and committed')
  t.same([...first.charges, ...second.charges], ['a'], 'charged once')
  t.equal(seen.length, 1, 'the second host saw the error')
  t.match(seen[0], { code: 'TROUPE_ONCE_INTERRUPTED', actor: 'pay', messageId: 'm1', name: 'charge' })
  t.match(seen[0]!.message, /ctx\.once\('charge'\) of pay on message m1 was started at .* by a run that did not record its end/)
  t.same(JSON.parse(state.get('pay', 'a')!.state).json, { n: 100 }, 'the state the handler chose')
})

t.test('at most once: a claim the store could not make is tried again on the next attempt, not kept as the answer', async (t) => {
  class Throttled extends MemorySideEffects {
    fails = 1
    override claim(record: SideEffectRecord, now: number) {
      if (this.fails-- > 0) throw new Error('ThrottlingException: rate exceeded')
      return super.claim(record, now)
    }
  }
  const { host, charges, batch } = setup(new MemoryStateStore(), { sideEffects: new Throttled(), semantics: 'at-most-once' })
  t.equal((await host.handle(batch)).failedFrom, undefined, 'the message ended')
  t.same(charges, ['a'], 'the second attempt claimed the call and charged once')
})

t.test('at most once: a failed side effect is not run again on the next attempts in this host', async (t) => {
  let calls = 0
  const { host, charges, batch, journal } = setup(new MemoryStateStore(), {
    semantics: 'at-most-once',
    result: () => {
      if (++calls === 1) throw new Error('the payment provider timed out')
      return calls
    },
  })
  t.equal((await host.handle(batch)).failedFrom, undefined, 'the message ended')
  t.same(charges, ['a'], 'the side effect ran once')
  const [letter] = journal.deadLetters()
  t.equal(letter?.attempts.length, 3, 'every attempt of the policy')
  t.same(letter?.attempts.map((a) => a.error.message), Array(3).fill('the payment provider timed out'), 'each failed with the first run\'s error')
})

t.test('a result that cannot be recorded fails the turn, naming the actor and the path', async (t) => {
  const { host, charges, batch, journal } = setup(new MemoryStateStore(), { result: () => ({ handle: () => 1 }) })
  t.equal((await host.handle(batch)).failedFrom, undefined, 'the message ended')
  const [letter] = journal.deadLetters()
  t.equal(letter?.error.name, 'NotSerializableError')
  t.match(letter?.error.message, /once result of pay has a function at result\.handle/)
  t.equal(letter?.attempts.length, 1, 'dead at once: a retry would only run the side effect again')
  t.same(charges, ['a'])
})

t.test('a result too large for its record is kept in the overflow store, and another host reads it back from there', async (t) => {
  const state = new FailingPuts(1, () => new Error('the environment died before its commit'))
  const sideEffects = new MemorySideEffects()
  const overflow = new MemoryPayloadStore()
  const big = 'x'.repeat(400 * 1024)
  const got: number[] = []
  const result = () => big
  const first = setup(state, { sideEffects, overflow, result })
  t.equal((await first.host.handle(first.batch)).failedFrom, '100')
  const record = sideEffects.get('m1', 'charge', Date.now())
  t.equal(record?.result, undefined, 'the record holds no result')
  t.match(record?.kept, /^once\/[0-9a-f]{64}$/, 'but where it is kept')
  t.equal((await overflow.get(record!.kept!))?.length, big.length + '{"json":""}'.length, 'the result, whole, in the overflow store')
  const second = setup(state, { sideEffects, overflow, result: () => (got.push(1), 'not this') })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined)
  t.same(got, [], 'the other host did not run it')
  t.same([...first.charges, ...second.charges], ['a'])
})

t.test('each attempt gets the result as recorded, not the object an earlier attempt changed', async (t) => {
  for (const semantics of ['at-least-once', 'at-most-once'] as const) {
    await t.test(semantics, async (t) => {
      const seen: unknown[] = []
      const { host, charges, batch } = setup(new MemoryStateStore(), {
        semantics,
        result: () => ({ amount: 10, refunds: [] as number[] }),
        use: (r, attempt) => {
          const got = r as { amount: number; refunds: number[] }
          seen.push(structuredClone(got))
          got.amount = 999
          got.refunds.push(1)
          if (attempt < 3) throw new Error('fails after the side effect')
        },
      })
      t.equal((await host.handle(batch)).failedFrom, undefined, 'the message ended')
      t.same(charges, ['a'], 'the side effect ran once')
      t.same(seen, Array(3).fill({ amount: 10, refunds: [] }), 'every attempt got the recorded result')
    })
  }
})

t.test('a result that could not be recorded is not run again by a later run: it is told that the side effect ran', async (t) => {
  for (const semantics of ['at-least-once', 'at-most-once'] as const) {
    await t.test(semantics, async (t) => {
      const sideEffects = new MemorySideEffects()
      const first = setup(new MemoryStateStore(), { sideEffects, semantics, result: () => ({ handle: () => 1 }) })
      t.equal((await first.host.handle(first.batch)).failedFrom, undefined)
      t.equal(first.journal.deadLetters()[0]?.error.code, 'TROUPE_NOT_SERIALIZABLE', 'the first run is a dead letter at once')
      const record = sideEffects.get('m1', 'charge', Date.now())
      t.match(record, { status: 'done', actor: 'pay', key: 'a', unrecorded: /TROUPE_NOT_SERIALIZABLE.*result\.handle/ }, 'one record says it ran, and why its result was not kept')
      // A replay of the letter, on another host.
      const second = setup(new MemoryStateStore(), { sideEffects, semantics, result: () => 'not again' })
      t.equal((await second.host.handle(second.batch)).failedFrom, undefined)
      t.same(second.charges, [], 'the side effect is not run again')
      const [letter] = second.journal.deadLetters()
      t.equal(letter?.error.code, 'TROUPE_ONCE_RESULT_LOST')
      t.match(letter?.error.message, /ctx\.once\('charge'\) of pay on message m1 ran its side effect .* its result could not be recorded \(\[TROUPE_NOT_SERIALIZABLE\]/)
      t.equal(letter?.attempts.length, 1, 'dead at once: every run gets the same answer')
    })
  }
})

t.test('a result too large for its record without an overflow store: a later run is told it ran', async (t) => {
  /** A store that refuses a large result as DynamoDB does. */
  class Small extends MemorySideEffects {
    override put(record: SideEffectRecord) {
      if ((record.result?.length ?? 0) > 1000) throw new TroupeError('TROUPE_ONCE_TOO_LARGE', 'too large')
      super.put(record)
    }
  }
  const sideEffects = new Small()
  const first = setup(new MemoryStateStore(), { sideEffects, result: () => 'x'.repeat(2000) })
  t.equal((await first.host.handle(first.batch)).failedFrom, undefined)
  t.equal(first.journal.deadLetters()[0]?.error.code, 'TROUPE_ONCE_TOO_LARGE')
  const second = setup(new MemoryStateStore(), { sideEffects })
  t.equal((await second.host.handle(second.batch)).failedFrom, undefined)
  t.same(second.charges, [], 'not run again')
  t.equal(second.journal.deadLetters()[0]?.error.code, 'TROUPE_ONCE_RESULT_LOST')
})

t.test("a record of another key's or type's turn under the message's id is not its answer, and fn does not run", async (t) => {
  const at = Date.now()
  const others: [string, Partial<SideEffectRecord>][] = [['key', { key: 'mallory' }], ['type', { actor: 'other.type' }]]
  for (const [what, over] of others) {
    await t.test(what, async (t) => {
      const sideEffects = new MemorySideEffects()
      sideEffects.put({ messageId: 'm1', name: 'charge', actor: 'pay', status: 'done', result: '{"json":"forged"}', at, expiresAt: at + 60_000, key: 'a', ...over })
      const got: unknown[] = []
      const { host, charges, batch, journal } = setup(new MemoryStateStore(), { sideEffects, use: (r) => got.push(r) })
      t.equal((await host.handle(batch)).failedFrom, undefined)
      t.same(got, [], 'the turn got no result')
      t.same(charges, [], 'and fn did not run')
      const [letter] = journal.deadLetters()
      t.equal(letter?.error.code, 'TROUPE_ONCE_OTHER_TURN')
      t.match(letter?.error.message, /ctx\.once\('charge'\) of pay key "a" on message m1 found a record written by a turn of /)
      t.equal(letter?.attempts.length, 1)
    })
  }
  await t.test('a record written before records kept their key is answered as before', async (t) => {
    const sideEffects = new MemorySideEffects()
    sideEffects.put({ messageId: 'm1', name: 'charge', actor: 'pay', status: 'done', result: '{"json":7}', at, expiresAt: at + 60_000 })
    const got: unknown[] = []
    const { host, charges, batch } = setup(new MemoryStateStore(), { sideEffects, use: (r) => got.push(r) })
    t.equal((await host.handle(batch)).failedFrom, undefined)
    t.same(got, [7])
    t.same(charges, [])
  })
  await t.test("an unkeyed actor's record carries its empty key", async (t) => {
    const sideEffects = new MemorySideEffects()
    const { host, batch } = setup(new MemoryStateStore(), { sideEffects, key: '' })
    await host.handle(batch)
    t.match(sideEffects.get('m1', 'charge', Date.now()), { actor: 'pay', key: '', status: 'done' })
  })
})

t.test("in one host, a message of another key under an id another key's turn used reads the record, not the memory", async (t) => {
  const sideEffects = new MemorySideEffects()
  const state = new MemoryStateStore()
  const got: unknown[] = []
  const first = setup(state, { sideEffects, key: 'mallory', result: () => 'mallory', use: (r) => got.push(r) })
  await first.host.handle(first.batch)
  t.same(got, ['mallory'])
  got.length = 0
  const other = setup(state, { sideEffects, key: 'bob' })
  // The same host: the second batch runs where the first ran.
  const result = await first.host.handle(other.batch)
  t.equal(result.failedFrom, undefined)
  t.same(got, [], "bob's turn did not get mallory's result")
  t.equal(first.journal.deadLetters()[0]?.error.code, 'TROUPE_ONCE_OTHER_TURN')
})
