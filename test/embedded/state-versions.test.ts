// State versions in the embedded system: a state written by version 1 of an actor is read by a
// system running version 2 over the same stores, migrated once when loaded and kept at version 2 by
// the store write that follows its next turn; a migration that throws fails its turns by the
// policy; a state written by a newer version is never run or written.
import t from 'tap'
import { Actor, AskFailedError, createSystem, MemoryStateStore, MemoryTimerStore, StateVersionError, type Context, type StoredInstance } from '../../lib/index.js'
import { decode } from '../../lib/core/serialization.js'

type Hit = { page: string }
type V1 = { count: number }
type V2 = { total: number; pages: string[] }

class PageHitsV1 extends Actor<Hit, number, V1> {
  static readonly type = 'pageHits'
  key(m: Hit) {
    return m.page
  }
  initialState() {
    return { count: 0 }
  }
  receive(_m: Hit, ctx: Context<V1>) {
    return ++ctx.state.count
  }
}

/** Version 2 of the same actor: `count` became `total`, and it keeps which pages it saw. */
function pageHitsV2(migrations: { n: number }, fail?: Error) {
  return class PageHitsV2 extends Actor<Hit, number, V2> {
    static readonly type = 'pageHits'
    static readonly version = 2
    static readonly policy = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 }
    key(m: Hit) {
      return m.page
    }
    initialState() {
      return { total: 0, pages: [] }
    }
    migrate(state: unknown, fromVersion: number): V2 {
      migrations.n++
      if (fail) throw fail
      if (fromVersion !== 1) throw new Error(`no migration from ${fromVersion}`)
      return { total: (state as V1).count, pages: [] }
    }
    receive(m: Hit, ctx: Context<V2>) {
      ctx.state.pages.push(m.page)
      return ++ctx.state.total
    }
  }
}

/** A memory state store that counts its writes: a load or a migration writes nothing. */
class CountingStore extends MemoryStateStore {
  puts = 0
  override put(type: string, key: string, value: StoredInstance, expected: number | undefined, expectedUpdatedAt?: number): void {
    this.puts++
    super.put(type, key, value, expected, expectedUpdatedAt)
  }
}

async function storedByV1(hits: number) {
  const stores = { state: new CountingStore(), timers: new MemoryTimerStore() }
  const one = createSystem({ actors: [PageHitsV1], stores, logLevel: 'silent' })
  for (let i = 0; i < hits; i++) await one.tell(PageHitsV1, { page: '/home' })
  await one.idle()
  await one.stop()
  return stores
}

t.test('a version-1 state is migrated once when a version-2 system loads it, and stored at version 2 with its next turn', async (t) => {
  const stores = await storedByV1(2)
  const before = stores.state.get('pageHits', '/home')!
  t.equal(before.stateVersion, undefined, 'version 1 writes no version: items from before versions read the same')
  t.same(decode(before.state), { count: 2 })

  const migrations = { n: 0 }
  const V2 = pageHitsV2(migrations)
  const two = createSystem({ actors: [V2], stores, logLevel: 'silent' })
  const puts = stores.state.puts
  t.same(await two.state(V2, '/home'), { total: 2, pages: [] }, 'a read shows the migrated shape')
  t.equal(stores.state.puts, puts, 'the read wrote nothing')
  t.same(stores.state.get('pageHits', '/home'), before, 'the stored item is as version 1 left it')

  migrations.n = 0
  t.equal(await two.ask(V2, { page: '/home' }), 3, 'the first turn runs on the migrated state')
  t.equal(await two.ask(V2, { page: '/home' }), 4)
  await two.tell(V2, { page: '/home' })
  await two.idle()
  t.equal(migrations.n, 1, 'migrated once for the load, not per turn')
  t.same(await two.state(V2, '/home'), { total: 5, pages: ['/home', '/home', '/home'] })
  t.equal(stores.state.puts, puts, 'no write of its own: the embedded system writes an instance when it evicts it or stops')

  t.ok(await two.evict(V2, '/home'))
  t.equal(stores.state.puts, puts + 1, 'one write')
  const after = stores.state.get('pageHits', '/home')!
  t.equal(after.stateVersion, 2, 'stored with the version of the code that kept it')
  t.same(decode(after.state), { total: 5, pages: ['/home', '/home', '/home'] })

  migrations.n = 0
  t.equal(await two.ask(V2, { page: '/home' }), 6, 'loaded again at version 2')
  t.equal(migrations.n, 0, 'and not migrated again')
  await two.stop()
})

t.test('a migration that throws fails the turn: retried by the policy, then a dead letter naming actor, key and versions; the stored state stays', async (t) => {
  const stores = await storedByV1(1)
  const before = stores.state.get('pageHits', '/home')!
  const migrations = { n: 0 }
  const V2 = pageHitsV2(migrations, new Error('the old shape is unreadable'))
  const two = createSystem({ actors: [V2], stores, logLevel: 'silent' })
  const id = await two.tell(V2, { page: '/home' })
  await two.idle()
  const [letter, ...more] = await two.deadLetters()
  t.equal(more.length, 0)
  t.equal(letter!.envelope.id, id)
  t.equal(letter!.attempts.length, 3, "every attempt of the actor's policy")
  t.equal(migrations.n, 3, 'each attempt migrates the stored state afresh')
  t.match(letter!.error, { code: 'TROUPE_STATE_MIGRATION_FAILED', name: 'StateMigrationError' })
  t.match(letter!.error.message, /state of pageHits key "\/home" could not be migrated from version 1 to 2: migrate threw: the old shape is unreadable/)

  await t.rejects(two.state(V2, '/home'), { code: 'TROUPE_STATE_MIGRATION_FAILED' }, 'a read that cannot migrate says why')
  await two.stop()
  const after = stores.state.get('pageHits', '/home')!
  t.equal(after.state, before.state, 'the stored state is as version 1 wrote it')
  t.equal(after.stateVersion, undefined, 'still version 1')
})

t.test('a state stored by a newer version is neither run nor written: the message fails with StateVersionError', async (t) => {
  const stores = await storedByV1(1)
  const V2 = pageHitsV2({ n: 0 })
  const two = createSystem({ actors: [V2], stores, logLevel: 'silent' })
  await two.tell(V2, { page: '/home' })
  await two.idle()
  await two.stop()
  const written = stores.state.get('pageHits', '/home')!
  t.equal(written.stateVersion, 2)

  const old = createSystem({ actors: [PageHitsV1], stores, logLevel: 'silent' })
  const error = await old.ask(PageHitsV1, { page: '/home' }).catch((e: unknown) => e)
  t.ok(error instanceof AskFailedError, 'the ask fails')
  const cause = (error as AskFailedError).cause
  t.ok(cause instanceof StateVersionError, 'because of the newer state')
  t.match(cause, { actor: 'pageHits', key: '/home', storedVersion: 2, codeVersion: 1 })
  t.match((cause as Error).message, /state of pageHits key "\/home" was stored by version 2 of the actor, and this code runs version 1/)
  const [letter] = await old.deadLetters()
  t.equal(letter!.attempts.length, 1, 'not retried: this system will not learn version 2')
  await t.rejects(old.state(PageHitsV1, '/home'), StateVersionError, 'a read refuses it too')
  t.ok(await old.evict(PageHitsV1, '/home'), 'evicted without a write')
  await old.tell(PageHitsV1, { page: '/home' })
  await old.idle()
  await old.stop()
  t.same(stores.state.get('pageHits', '/home'), written, 'the stored item is exactly as version 2 wrote it')
})

t.test('migrate returning null or a class instance fails the turn as a migration, naming actor, key and versions; in production a class instance is not refused and nothing crashes', async (t) => {
  class Shape {
    constructor(readonly total: number) {}
  }
  for (const [what, migrated, checkSerializable, error] of [
    ['null', () => null, true, /could not be migrated from version 1 to 2: migrate returned null/],
    ['a class instance', (s: V1) => new Shape(s.count), true, /state of pageHits key "\/home" could not be migrated from version 1 to 2: migrate returned a state that would not survive superjson: .*class Shape/],
    ['a class instance in production', (s: V1) => new Shape(s.count), false, undefined],
  ] as const) {
    await t.test(what, async (t) => {
      const stores = await storedByV1(1)
      class Migrated extends pageHitsV2({ n: 0 }) {
        static override readonly policy = { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 }
        override migrate(state: unknown): V2 {
          return (migrated as (s: V1) => unknown)(state as V1) as never
        }
        override receive(_m: Hit, ctx: Context<V2>) {
          return ++ctx.state.total
        }
      }
      const two = createSystem({ actors: [Migrated], stores, logLevel: 'silent', checkSerializable })
      await two.tell(Migrated, { page: '/home' })
      await two.idle()
      const letters = await two.deadLetters()
      await two.stop()
      if (error === undefined) {
        t.same(letters, [], 'the turn ran')
        t.equal(stores.state.get('pageHits', '/home')?.stateVersion, 2, 'and its state was written')
        return
      }
      t.match(letters[0]?.error, { code: 'TROUPE_STATE_MIGRATION_FAILED', message: error })
      t.equal(stores.state.get('pageHits', '/home')?.stateVersion, undefined, 'the stored state is still version 1')
    })
  }
})
