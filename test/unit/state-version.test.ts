// State versions, the pure part (lib/turn/state-version.ts): what a class may declare (checked when
// it is registered), how a stored state of each version is held, migrated, refused and written back.
import t from 'tap'
import { Actor, ConfigError, StateMigrationError, StateVersionError, type Context } from '../../lib/index.js'
import { encode } from '../../lib/core/serialization.js'
import { ActorType } from '../../lib/turn/actor-type.js'
import { currentState, isNewer, loadedState, OtherVersionState, shownState, storedForm } from '../../lib/turn/state-version.js'

type V1 = { count: number }
type V3 = { total: number; history: string[] }

class CounterV1 extends Actor<{ k: string }, void, V1> {
  static readonly type = 'sv.counter'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { count: 0 }
  }
  receive(_m: { k: string }, ctx: Context<V1>) {
    ctx.state.count++
  }
}

const calls: [unknown, number][] = []

/** Version 3: v1 → v2 renamed count to total, v2 → v3 added history; one call handles the chain. */
class CounterV3 extends Actor<{ k: string }, void, V3> {
  static readonly type = 'sv.counter'
  static readonly version = 3
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { total: 0, history: [] }
  }
  migrate(state: unknown, fromVersion: number): V3 {
    calls.push([state, fromVersion])
    let s = state as Record<string, unknown>
    if (fromVersion < 2) s = { total: s.count }
    if (fromVersion < 3) s = { ...s, history: [`from v${fromVersion}`] }
    return s as V3
  }
  receive(_m: { k: string }, ctx: Context<V3>) {
    ctx.state.total++
  }
}

function declared(statics: Record<string, unknown>, members: Record<string, unknown> = {}, keyed = true): ActorType {
  class Declared extends Actor<{ k: string }, void, object> {
    static readonly type = 'sv.declared'
    receive() {}
  }
  Object.assign(Declared, statics)
  if (keyed) Object.assign(Declared.prototype, { key: () => 'k', initialState: () => ({}) })
  Object.assign(Declared.prototype, members)
  return new ActorType(Declared)
}

const stored = (state: unknown, stateVersion?: number) => ({ state: encode(state), version: 7, updatedAt: 1, ...(stateVersion === undefined ? {} : { stateVersion }) })

t.test('the declaration: absent is version 1, a number is a positive integer, a string is no state version', async (t) => {
  t.same(new ActorType(CounterV1).versions, { current: 1, migrate: undefined }, 'no version and no migrate: version 1')
  t.equal(new ActorType(CounterV3).versions.current, 3)
  t.equal(declared({ version: '1.2.0' }, {}, false).versions.current, 1, "a string (a pipeline component's lineage version) is not read")
  t.equal(declared({ version: 1 }, {}, false).versions.current, 1, 'version 1 on a stateless actor says nothing wrong')
  t.equal(declared({ version: 2, migrate: (s: unknown) => s }).versions.current, 2, 'a static migrate counts')
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, true, null, {}]) {
    t.throws(() => declared({ version: bad }, { migrate: (s: unknown) => s }), { code: 'TROUPE_CONFIG', message: /sv\.declared\.version must be a positive integer/ }, `version ${String(bad)} is refused, naming the actor`)
  }
  t.throws(() => declared({ version: '2' }, { migrate: (s: unknown) => s }), ConfigError, 'a string version beside a migrate is taken for a mistake')
})

t.test('the declaration: what a version needs and what a stateless actor may not have', async (t) => {
  t.throws(() => declared({ version: 2 }), { message: /sv\.declared\.version is 2 but sv\.declared has no migrate/ })
  t.throws(() => declared({ version: 2, migrate: (s: unknown) => s }, { migrate: (s: unknown) => s }), { message: /both as a method and as a static/ })
  t.throws(() => declared({ version: 2 }, { migrate: 'yes' }), { message: /sv\.declared\.migrate must be a function/ })
  t.throws(() => declared({ version: 2, migrate: (s: unknown) => s }, {}, false), { message: /sv\.declared is stateless/ })
  t.throws(() => declared({}, { migrate: (s: unknown) => s }, false), { message: /sv\.declared is stateless/ })
})

t.test('loading: this version decoded, another kept as stored, a deleted older instance is no state', async (t) => {
  const v3 = new ActorType(CounterV3)
  t.same(loadedState(v3, stored({ total: 4, history: [] }, 3)), { total: 4, history: [] })
  const older = loadedState(v3, stored({ count: 4 }))
  t.ok(older instanceof OtherVersionState, 'no stateVersion: version 1, older than 3')
  t.equal((older as OtherVersionState).version, 1)
  t.equal(loadedState(v3, stored(undefined, 2)), undefined)
  const newer = loadedState(v3, stored({ total: 4, history: [], more: true }, 4))
  t.ok(isNewer(v3, newer), 'a version above the code’s is newer')
  t.notOk(isNewer(v3, older))
  t.same(loadedState(new ActorType(CounterV1), stored({ count: 2 })), { count: 2 }, 'items written before versions are version 1')
})

t.test('migrating: one call with the stored version, across several versions; errors name actor, key and versions', async (t) => {
  calls.length = 0
  const v3 = new ActorType(CounterV3)
  t.same(currentState(v3, 'a', loadedState(v3, stored({ count: 4 }))), { total: 4, history: ['from v1'] })
  t.same(currentState(v3, 'a', loadedState(v3, stored({ total: 9 }, 2))), { total: 9, history: ['from v2'] })
  t.same(calls, [[{ count: 4 }, 1], [{ total: 9 }, 2]], 'migrate got the stored state and its version, once each')
  const plain = { total: 1, history: [] }
  t.equal(currentState(v3, 'a', plain), plain, 'a state of this version passes as it is')

  const newer = loadedState(v3, stored({}, 5))
  t.throws(() => currentState(v3, 'k-1', newer), new StateVersionError('sv.counter', 'k-1', 5, 3))
  t.throws(() => currentState(v3, 'k-1', newer), { code: 'TROUPE_STATE_VERSION_NEWER', message: /sv\.counter key "k-1" was stored by version 5 .* runs version 3/ })

  const failing = (migrate: (s: unknown, from: number) => unknown) => declared({ version: 2 }, { migrate })
  const boom = new Error('no count')
  const error = t.throws(() => currentState(failing(() => { throw boom }), 'k-2', new OtherVersionState(encode({}), 1))) as StateMigrationError
  t.ok(error instanceof StateMigrationError)
  t.match(error, { code: 'TROUPE_STATE_MIGRATION_FAILED', actor: 'sv.declared', key: 'k-2', fromVersion: 1, toVersion: 2, cause: boom })
  t.match(error.message, /state of sv\.declared key "k-2" could not be migrated from version 1 to 2: migrate threw: no count/)
  t.throws(() => currentState(failing(async (s) => s), 'k', new OtherVersionState(encode({}), 1)), { message: /returned a promise/ })
  t.throws(() => currentState(failing(() => undefined), 'k', new OtherVersionState(encode({}), 1)), { message: /returned undefined/ })
  t.throws(() => currentState(failing(() => null), 'k-3', new OtherVersionState(encode({}), 1)), {
    code: 'TROUPE_STATE_MIGRATION_FAILED',
    message: /state of sv\.declared key "k-3" could not be migrated from version 1 to 2: migrate returned null; it must return the state/,
  })
})

t.test('a stored version that is no positive whole number is never migrated, run or written back, whatever the code', async (t) => {
  calls.length = 0
  const v1 = new ActorType(CounterV1)
  const v3 = new ActorType(CounterV3)
  const held = [
    ...[0, -1, 1.5, NaN].map((n) => [{ ...stored({ count: 1 }), stateVersion: n }, String(n)] as const),
    // What the DynamoDB store reads from `sv: {S: "3"}`
    [{ ...stored({ count: 1 }), unreadableVersion: '{"S":"3"}' }, '{"S":"3"}'] as const,
  ]
  for (const [item, shown] of held) {
    for (const type of [v1, v3]) {
      const state = loadedState(type, item)
      t.ok(isNewer(type, state), `${shown} on version ${type.versions.current}: held as never to be run or written`)
      t.throws(() => currentState(type, 'k-9', state), {
        code: 'TROUPE_STATE_VERSION_UNREADABLE',
        message: new RegExp(`state of sv\\.counter key "k-9" has a state version that is not a positive whole number: its field sv holds ${shown.replace(/[.{}"]/g, (c) => `\\${c}`)}`),
      })
      t.throws(() => storedForm(type, state), /internal: .* about to be overwritten/)
    }
  }
  t.same(calls, [], 'migrate was never called')
})

t.test('each migration starts from the stored text: one that changed its input and threw leaves nothing behind', async (t) => {
  let n = 0
  const type = declared({ version: 2 }, {
    migrate(state: { list: number[] }) {
      state.list.push(++n)
      if (n === 1) throw new Error('first try fails')
      return state
    },
  })
  const held = new OtherVersionState(encode({ list: [0] }), 1)
  t.throws(() => currentState(type, 'k', held))
  t.same(currentState(type, 'k', held), { list: [0, 2] })
})

t.test('writing back: this version with its number (none for 1), a state no turn migrated as it was stored, never a newer one', async (t) => {
  const v3 = new ActorType(CounterV3)
  t.same(storedForm(v3, { total: 1, history: [] }), { state: encode({ total: 1, history: [] }), stateVersion: 3 })
  t.same(storedForm(new ActorType(CounterV1), { count: 1 }), { state: encode({ count: 1 }) }, 'version 1 adds nothing to the item')
  const text = encode({ count: 4 })
  t.same(storedForm(v3, new OtherVersionState(text, 1)), { state: text }, 'an unmigrated version-1 state goes back byte for byte')
  t.same(storedForm(v3, new OtherVersionState(text, 2)), { state: text, stateVersion: 2 })
  t.throws(() => storedForm(v3, new OtherVersionState(text, 4)), /about to be overwritten/)
})

t.test('shown in a list: migrated in memory where it can be, else as stored', async (t) => {
  const v3 = new ActorType(CounterV3)
  t.same(shownState(v3, 'a', new OtherVersionState(encode({ count: 2 }), 1)), { total: 2, history: ['from v1'] })
  t.same(shownState(v3, 'a', new OtherVersionState(encode({ total: 2, extra: 1 }), 4)), { total: 2, extra: 1 }, 'a newer one as stored')
})
