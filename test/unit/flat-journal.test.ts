// A flat state's turn (flat-journal.ts): which states are flat, and that a turn on one keeps,
// rolls back and releases as a turn on drafts does (state-journal.ts), by copies of one level.
import t from 'tap'
import { FlatJournal, isFlatState } from '../../lib/core/flat-journal.js'
import { openJournal } from '../../lib/core/turn-journal.js'
import { StateJournal } from '../../lib/core/state-journal.js'

t.test('which states are flat', async (t) => {
  t.ok(isFlatState({ count: 0, name: 'a', on: true, none: null, big: 10n, nothing: undefined }), 'a few primitives')
  t.ok(isFlatState({}), 'no keys')
  t.notOk(isFlatState({ list: [] }), 'an array inside')
  t.notOk(isFlatState({ at: new Date(0) }), 'a Date inside')
  t.notOk(isFlatState({ f: () => 1 }), 'a function')
  t.notOk(isFlatState(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i]))), 'more than eight keys')
  t.notOk(isFlatState(Object.freeze({ count: 0 })), 'frozen')
  t.notOk(isFlatState(Object.seal({ count: 0 })), 'sealed')
  t.notOk(isFlatState(Object.assign(Object.create(null) as object, { count: 0 })), 'a null prototype')
  t.notOk(isFlatState(new (class Tally { count = 0 })()), 'a class instance')
  t.notOk(isFlatState({ [Symbol('s')]: 1 }), 'a symbol key')
  t.notOk(isFlatState(Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false })), 'a hidden key')
  t.notOk(isFlatState(Object.defineProperty({}, 'got', { get: () => 1, enumerable: true })), 'an accessor')
  t.notOk(isFlatState([1, 2]), 'an array')
  t.notOk(isFlatState(5), 'a number')
  t.ok(openJournal({ count: 0 }, {}) instanceof FlatJournal)
  t.ok(openJournal({ count: 0, list: [1] }, {}) instanceof StateJournal)
})

t.test('a failed turn leaves the state as it was; a kept one is a new object, apart from what the turn held', async (t) => {
  const state = { count: 1, status: 'open' }
  const failed = new FlatJournal(state, true)
  const view = failed.view as typeof state
  view.count = 99
  delete (view as Partial<typeof state>).status
  failed.rollback()
  t.same(state, { count: 1, status: 'open' }, 'rolled back: untouched')

  const journal = new FlatJournal(state, true)
  const draft = journal.view as typeof state & { items?: number[] }
  draft.count++
  const fromMessage = [1, 2]
  draft.items = fromMessage
  const kept = journal.keep(draft) as typeof draft
  t.same(kept, { count: 2, status: 'open', items: [1, 2] })
  t.same(state, { count: 1, status: 'open' }, 'the state it began from is not written (a host may still refuse the turn)')
  t.not(kept, draft, 'the kept state is not the object the turn held')
  t.not(kept.items, fromMessage, 'what came from elsewhere is copied into the state')
  draft.count = 1_000
  fromMessage.push(3)
  t.same(kept, { count: 2, status: 'open', items: [1, 2] }, 'a write through a ctx.state held past the turn, or to the message, never reaches the state')
  t.notOk(isFlatState(kept), 'a state that now holds an array is no longer flat')

  const again = new FlatJournal({ count: 1 }, true)
  const flatKept = again.keep(again.view)
  t.ok(isFlatState(flatKept), 'a flat state kept stays flat')
  ;(flatKept as Record<string, unknown>).list = [1]
  t.notOk(isFlatState(flatKept), 'and is looked at again: written in place since (a migration), it is not')
  const replaced = new FlatJournal({ count: 1 }, true)
  const fresh = { count: 5, nested: { a: 1 } }
  const keptFresh = replaced.keep(fresh) as typeof fresh
  t.same(keptFresh, fresh)
  t.not(keptFresh.nested, fresh.nested, 'a state replaced whole is copied in')
})

t.test('what leaves the turn shares nothing the turn may still change', async (t) => {
  const journal = new FlatJournal({ count: 1 }, true)
  const view = journal.view as { count: number; list?: number[] }
  const told = journal.release(view) as { count: number }
  view.count = 2
  t.same(told, { count: 1 }, 'ctx.state told, then changed: the body is as it was when told')
  view.list = [1]
  const wrapped = journal.release({ state: view, list: view.list }) as { state: { list: number[] }; list: number[] }
  view.list.push(2)
  t.same(wrapped, { state: { count: 2, list: [1] }, list: [1] }, 'inside another value too, and what the turn put in the state')
  const other = { x: 1 }
  t.equal(journal.release(other), other, 'a value that holds nothing of the state goes as it is')
  t.equal(journal.release(7), 7)
})

t.test('what the turn wrote vouches for the whole state only when trusted and kept whole', async (t) => {
  const trusted = new FlatJournal({ count: 1 }, true)
  const v = trusted.view as Record<string, unknown>
  v.count = 2
  t.ok(trusted.writesSerializable(v))
  v.f = () => 1
  t.notOk(trusted.writesSerializable(v), 'a function written')
  delete v.f
  v.nested = { fn: () => 1 }
  t.notOk(trusted.writesSerializable(v), 'an object holding a function')
  t.notOk(trusted.writesSerializable({ count: 1 }), 'a state replaced whole: check it all')
  const fresh = new FlatJournal({ count: 1 }, false)
  t.notOk(fresh.writesSerializable(fresh.view), 'an initial state is checked whole')
})

t.test('a journal that may keep in place writes the turn into the last state kept, and only there', async (t) => {
  // A state this module made: the last one kept.
  const first = new FlatJournal({ count: 1, status: 'open' }, true, true)
  const state = first.keep(first.view) as { count: number; status: string }
  const journal = new FlatJournal(state, true, true)
  const view = journal.view as typeof state
  view.count++
  t.equal(journal.keep(view), state, 'kept in the object it began from')
  t.same(state, { count: 2, status: 'open' })
  view.count = 1_000
  t.same(state, { count: 2, status: 'open' }, 'a ctx.state held past the turn never reaches the state')

  const failed = new FlatJournal(state, true, true)
  ;(failed.view as typeof state).count = 50
  failed.rollback()
  t.same(state, { count: 2, status: 'open' }, 'a failed turn leaves it as it was')

  const running = new FlatJournal(state, true, true)
  ;(running.view as typeof state).count = 7
  t.same(state, { count: 2, status: 'open' }, 'not written while the turn runs')
  t.equal(running.keep(running.view), state)
  t.same(state, { count: 7, status: 'open' })

  const moved = new FlatJournal(state, true, true)
  const m = moved.view as Partial<typeof state>
  delete m.count
  m.count = 8
  const keptMoved = moved.keep(m)
  t.not(keptMoved, state, 'keys moved: a new copy')
  t.same(Object.keys(keptMoved as object), ['status', 'count'], 'in the order the turn left')
  t.same(state, { count: 7, status: 'open' })

  const other = { count: 1 }
  const notOurs = new FlatJournal(other, true, true)
  ;(notOurs.view as typeof other).count = 2
  t.not(notOurs.keep(notOurs.view), other, 'a state this module did not make last is not written')
  t.same(other, { count: 1 })

  const last = new FlatJournal({ count: 1 }, true, true)
  const lastKept = last.keep(last.view) as { count: number; nested?: { a: number } }
  const apart = new FlatJournal(lastKept, true)
  ;(apart.view as typeof lastKept).count = 2
  t.not(apart.keep(apart.view), lastKept, 'without inPlace (a host that may still refuse the turn): a new copy')
  t.same(lastKept, { count: 1 })

  const nest = new FlatJournal({ count: 1, nested: 0 } as Record<string, unknown>, true, true)
  const nestKept = nest.keep(nest.view) as Record<string, unknown>
  const withObject = new FlatJournal(nestKept, true, true)
  const fromMessage = { a: 1 }
  ;(withObject.view as Record<string, unknown>).nested = fromMessage
  t.equal(withObject.keep(withObject.view), nestKept)
  t.not(nestKept.nested, fromMessage, 'what came from elsewhere is copied into the state')
  t.same(nestKept.nested, { a: 1 })
})

t.test('the last state kept, frozen by code that held it past its turn, is not written: a copy is kept', async (t) => {
  const first = new FlatJournal({ count: 1 }, true, true)
  const state = first.keep(first.view) as { count: number }
  Object.freeze(state)
  const journal = openJournal(state, { trusted: true })
  ;(journal.view as { count: number }).count = 2
  const kept = journal.keep(journal.view)
  t.not(kept, state)
  t.same(kept, { count: 2 })
  t.same(state, { count: 1 })
})
