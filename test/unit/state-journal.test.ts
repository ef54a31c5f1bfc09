// The state journal alone: a turn's drafts write into the state and a rollback puts every key
// back; a kept turn leaves plain data (no proxy anywhere in it), in place or apart; what leaves
// a turn shares nothing with the state. Property-based runs (fast-check) mix random changes.
import fc from 'fast-check'
import t from 'tap'
import { types } from 'node:util'
import { encode } from '../../lib/core/serialization.js'
import { copyState } from '../../lib/core/state-copy.js'
import { isDraft, readKept, StateJournal } from '../../lib/core/state-journal.js'

/** The path of the first proxy in `value`, or undefined: walks the containers themselves, not through traps. */
function findProxy(value: unknown, path = 'state', seen = new Set<object>()): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (types.isProxy(value)) return path
  if (seen.has(value)) return undefined
  seen.add(value)
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const found = findProxy(k, `${path}.<key>`, seen) ?? findProxy(v, `${path}.get(${String(k)})`, seen)
      if (found) return found
    }
  } else if (value instanceof Set) {
    for (const v of value) {
      const found = findProxy(v, `${path}.<item>`, seen)
      if (found) return found
    }
  } else {
    for (const k of Reflect.ownKeys(value)) {
      const found = findProxy((value as Record<PropertyKey, unknown>)[k], `${path}.${String(k)}`, seen)
      if (found) return found
    }
  }
  return undefined
}

interface Sample {
  n: number
  list: number[]
  tags: Set<string>
  at: Date
  users: Map<string, { name: string; visits: number; seen: Date }>
  deep: { a: { b: { c: number } } }
  bare: Record<string, number>
}

function sample(): Sample {
  const bare = Object.create(null) as Record<string, number>
  bare.x = 1
  return {
    n: 1,
    list: [1, 2, 3],
    tags: new Set(['a', 'b']),
    at: new Date(5),
    users: new Map([
      ['u1', { name: 'Ada', visits: 1, seen: new Date(10) }],
      ['u2', { name: 'Bo', visits: 2, seen: new Date(20) }],
    ]),
    deep: { a: { b: { c: 1 } } },
    bare,
  }
}

t.test('a rollback puts back every key the turn changed, however it changed it', async (t) => {
  const changes: [string, (s: Sample) => void][] = [
    ['a number', (s) => s.n++],
    ['a nested Map entry', (s) => s.users.get('u1')!.visits++],
    ['a Map entry set, deleted and cleared', (s) => (s.users.set('u3', { name: 'Cy', visits: 0, seen: new Date(0) }).delete('u1'), s.users.clear())],
    ['a Date in a Map entry, through its methods', (s) => s.users.get('u2')!.seen.setTime(99)],
    ['a Date of the root', (s) => s.at.setFullYear(2000)],
    ['a Set', (s) => (s.tags.add('c'), s.tags.delete('a'))],
    ['an array, by push, splice, sort and length', (s) => (s.list.push(4), s.list.splice(0, 1, 9, 8), s.list.sort(), (s.list.length = 1))],
    ['an array grown past its end', (s) => (s.list[10] = 1)],
    ['a deep key deleted and its parent replaced', (s) => (delete (s.deep.a.b as Partial<Sample['deep']['a']['b']>).c, (s.deep.a = { b: { c: 7 } }))],
    ['a null-prototype object', (s) => ((s.bare.y = 2), delete s.bare.x)],
    ['a key defined', (s) => Object.defineProperty(s, 'extra', { value: 1, enumerable: true, writable: true, configurable: true })],
  ]
  for (const [what, change] of changes) {
    const state = sample()
    const before = encode(state)
    const journal = new StateJournal(state)
    change(journal.view as Sample)
    t.not(encode(copyState(journal.view)), before, `${what}: the turn sees its change`)
    journal.rollback()
    t.equal(encode(state), before, `${what}: the rollback left it as it was`)
  }
})

t.test('an own __proto__ key stays a key through a draft, a rollback and a keep', async (t) => {
  const state = JSON.parse('{"__proto__": {"polluted": 1}, "ok": {"n": 1}}') as Record<string, { polluted?: number; n?: number }>
  const journal = new StateJournal(state)
  const draft = journal.view as typeof state
  draft['__proto__']!.polluted = 2
  draft.ok!.n = 2
  journal.rollback()
  t.same(state['__proto__'], { polluted: 1 })
  t.equal(Object.getPrototypeOf(state), Object.prototype)
  const again = new StateJournal(state)
  ;(again.view as typeof state)['__proto__'] = { polluted: 3 }
  const kept = again.keep(again.view) as typeof state
  t.same(Object.keys(kept), ['__proto__', 'ok'])
  t.equal(Object.getPrototypeOf(kept), Object.prototype)
  t.same(kept['__proto__'], { polluted: 3 })
  t.equal(({} as { polluted?: number }).polluted, undefined, 'no prototype was polluted')
})

t.test('a kept turn leaves plain data: what it wrote is the state’s own, with no draft in it', async (t) => {
  for (const apart of [false, true]) {
    const state = sample()
    const message = { tags: ['x'] } // a body's part, written into the state
    const journal = new StateJournal(state, { apart })
    const draft = journal.view as Sample & Record<string, unknown>
    draft.alias = draft.deep.a // a draft written elsewhere in the state
    draft.wrapped = { inner: draft.users.get('u1'), list: [draft.list] } // drafts inside a value made in the turn
    draft.users.set('u9', draft.users.get('u2')!)
    draft.fromMessage = message
    draft.deep.a.b.c = 5
    const kept = journal.keep(draft) as Sample & Record<string, unknown>
    t.equal(findProxy(kept), undefined, `apart ${apart}: no proxy in the kept state`)
    t.equal((kept.alias as Sample['deep']['a']).b.c, 5)
    t.equal((kept.wrapped as { inner: { name: string } }).inner.name, 'Ada')
    t.not(kept.fromMessage, message, `apart ${apart}: a value from elsewhere is copied, so its owner cannot change the state`)
    if (apart) {
      t.not(kept, state, 'apart: a new root')
      t.equal(state.deep.a.b.c, 1, 'apart: the state the turn began from is as it was')
      t.equal(kept.tags, state.tags, 'apart: what the turn did not touch is shared')
      t.equal(findProxy(state), undefined, 'apart: no proxy left in the old state either')
    } else {
      t.equal(kept, state, 'in place: the same root')
      t.equal(kept.alias, kept.deep.a, 'in place: a draft written elsewhere is the container itself')
    }
  }
})

t.test('a turn that replaces the whole state, or whose state is not an object', async (t) => {
  const state = sample()
  const journal = new StateJournal(state)
  const old = journal.view as Sample
  old.n = 99
  const fresh = { from: old.users, n: 0 } // the new state holds a draft of the old one
  const kept = journal.keep(fresh) as { from: Sample['users']; n: number }
  t.equal(findProxy(kept), undefined)
  t.equal(kept.from, state.users, 'the part taken over is the container, not a draft')
  for (const start of [undefined, 0, 'text', null, 10n]) {
    const failed = new StateJournal(start)
    t.equal(failed.view, start)
    failed.rollback()
    const kept = new StateJournal(start).keep({ made: [1] })
    t.same(kept, { made: [1] }, `${String(start)}: replaced`)
  }
})

t.test('what leaves a turn is released: a plain copy where it holds drafts, untouched otherwise', async (t) => {
  const state = sample()
  const journal = new StateJournal(state)
  const draft = journal.view as Sample
  draft.users.get('u1')!.visits = 7
  const body = { user: draft.users.get('u1'), n: 1 }
  const released = journal.release(body) as typeof body
  t.equal(findProxy(released), undefined)
  t.same(released.user, { name: 'Ada', visits: 7, seen: new Date(10) })
  draft.users.get('u1')!.visits = 8
  t.equal(released.user!.visits, 7, 'the body is what the state was when it left')
  const plain = { n: 1 }
  t.equal(journal.release(plain), plain, 'a value without drafts is not copied')
  t.equal(findProxy(journal.release(draft)), undefined, 'the whole state as a reply is a copy')
  journal.keep(draft)
})

t.test('frozen parts are shared, and stay frozen', async (t) => {
  const fixed = Object.freeze({ ids: Object.freeze(['a']) })
  const state = { fixed, n: 1 }
  const journal = new StateJournal(state)
  const draft = journal.view as typeof state
  t.equal(draft.fixed, fixed, 'the frozen part itself, not a draft')
  t.throws(() => ((draft.fixed as { ids: unknown }).ids = []), TypeError)
  t.throws(() => Object.freeze(draft), { code: 'TROUPE_STATE_FROZEN' }, 'freezing a draft would make the turn impossible to undo')
  journal.rollback()
  // A frozen Map still changes through its methods: it is drafted, and a rollback undoes it.
  const withMap = { m: Object.freeze(new Map([['a', 1]])) }
  const again = new StateJournal(withMap)
  const m = (again.view as typeof withMap).m
  m.set('a', 2)
  m.set('b', 3)
  t.throws(() => Object.freeze(m), { code: 'TROUPE_STATE_FROZEN' })
  again.rollback()
  t.same([...withMap.m], [['a', 1]])
})

t.test('a turn that ran past its end changes nothing: its writes are dropped', async (t) => {
  const state = sample()
  const journal = new StateJournal(state)
  const draft = journal.view as Sample
  const users = draft.users
  journal.rollback()
  draft.n = 5
  users.set('late', { name: 'L', visits: 0, seen: new Date(0) })
  users.get('u1')!.visits = 50
  draft.list.push(1)
  t.same(state, sample())
})

t.test('readKept reads the state as the last kept turn left it, while a turn is still running', async (t) => {
  const state = sample()
  const journal = new StateJournal(state)
  const draft = journal.view as Sample
  draft.n = 2
  draft.list.push(4)
  draft.users.delete('u1')
  t.same(readKept(state, copyState), sample(), 'the running turn’s changes are set aside')
  t.equal(state.n, 2, 'and put back')
  t.same(state.list, [1, 2, 3, 4])
  t.notOk(draft.users.has('u1'), 'the turn still sees what it deleted gone')
  journal.keep(draft)
  t.notOk(state.users.has('u1'), 'and the kept state has it gone')
  t.equal((readKept(state, copyState) as Sample).n, 2, 'after the turn: the state itself')
})

t.test('writesSerializable vouches for a turn only when what it wrote survives superjson', async (t) => {
  const cases: [string, (s: Sample & Record<string, unknown>) => void, boolean][] = [
    ['a number', (s) => s.n++, true],
    ['a nested Map entry', (s) => (s.users.get('u1')!.visits = 3), true],
    ['a function in a Map entry', (s) => (s.users.get('u1')!.name = (() => 'x') as never), false],
    ['a class instance', (s) => (s.deep.a = new (class Point {})() as never), false],
    ['a symbol key', (s) => (s[Symbol('k') as never] = 1), false],
    ['a hole in an array', (s) => (s.list[5] = 1), false],
    ['an array grown without holes', (s) => s.list.push(4, 5), true],
  ]
  for (const [what, change, ok] of cases) {
    const journal = new StateJournal(sample(), { trusted: true })
    change(journal.view as never)
    t.equal(journal.writesSerializable(journal.view), ok, what)
    journal.rollback()
  }
  const untrusted = new StateJournal(sample())
  t.notOk(untrusted.writesSerializable(untrusted.view), 'a state not known to be serialisable is checked whole')
})

t.test('drafts behave as the containers they stand for', async (t) => {
  const state = sample()
  const journal = new StateJournal(state)
  const draft = journal.view as Sample
  t.ok(isDraft(draft.users))
  t.ok(draft.users instanceof Map && draft.tags instanceof Set && Array.isArray(draft.list))
  t.equal(draft.users.get('u1'), draft.users.get('u1'), 'one draft per container')
  t.equal(draft.users.size, 2)
  t.same([...draft.users.keys()], ['u1', 'u2'])
  t.same(
    [...draft.users.values()].map((u) => u.name),
    ['Ada', 'Bo'],
  )
  t.ok(draft.list.includes(2))
  t.same(JSON.parse(JSON.stringify(draft.deep)), { a: { b: { c: 1 } } })
  t.same({ ...draft.deep.a.b }, { c: 1 })
  const member = new Set([draft.users.get('u1')])
  t.ok(member.has(draft.users.get('u1')))
  journal.keep(draft)
})

// Random changes to a random-ish state: a rollback always restores it, and a kept turn (in
// place or apart) holds exactly what the same changes make of a plain copy.
type Op = { kind: 'set' | 'delete' | 'readd' | 'mapSet' | 'mapDelete' | 'push' | 'splice' | 'setAdd' | 'setDelete' | 'nested' | 'date' | 'length'; k: number; v: number }
const op = fc.record({
  kind: fc.constantFrom('set', 'delete', 'readd', 'mapSet', 'mapDelete', 'push', 'splice', 'setAdd', 'setDelete', 'nested', 'date', 'length'),
  k: fc.nat(6),
  v: fc.integer({ min: -5, max: 5 }),
}) as fc.Arbitrary<Op>

interface Random {
  o: Record<string, number>
  m: Map<string, { v: number; at: Date }>
  a: number[]
  s: Set<number>
}

function randomState(): Random {
  return {
    o: { k0: 0, k1: 1, k2: 2 },
    m: new Map([0, 1, 2, 3].map((i) => [`k${i}`, { v: i, at: new Date(i) }])),
    a: [0, 1, 2, 3],
    s: new Set([0, 1, 2]),
  }
}

function apply(s: Random, { kind, k, v }: Op): void {
  const key = `k${k}`
  switch (kind) {
    case 'set':
      s.o[key] = v
      return
    case 'delete':
      delete s.o[key]
      return
    case 'readd':
      delete s.o[key]
      s.o[`n${v}`] = v
      s.o[key] = v
      return
    case 'mapSet':
      s.m.set(key, { v, at: new Date(v) })
      return
    case 'mapDelete':
      s.m.delete(key)
      return
    case 'push':
      s.a.push(v)
      return
    case 'splice':
      s.a.splice(k % 3, 1, v, v)
      return
    case 'setAdd':
      s.s.add(v)
      return
    case 'setDelete':
      s.s.delete(k)
      return
    case 'nested': {
      const entry = s.m.get(key)
      if (entry) entry.v += v
      return
    }
    case 'date':
      s.m.get(key)?.at.setTime(v)
      return
    case 'length':
      s.a.length = Math.min(s.a.length, k % 4) // shorter only: a hole is not state (superjson would change it)
  }
}

t.test('random changes: a rollback restores the state; a kept turn equals the changes made to a copy', async (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), fc.boolean(), (ops, apart) => {
      // Encoded, so that the order of keys, entries and members counts too.
      const state = randomState()
      const before = encode(state)
      const failed = new StateJournal(state, { apart })
      for (const o of ops) apply(failed.view as Random, o)
      failed.rollback()
      t.equal(encode(state), before, 'a rollback restores the state')
      const expected = copyState(state)
      for (const o of ops) apply(expected, o)
      const journal = new StateJournal(state, { apart })
      const draft = journal.view as Random
      for (const o of ops) apply(draft, o)
      t.equal(encode(copyState(draft)), encode(expected), 'the turn sees what plain data would hold')
      const kept = journal.keep(draft)
      t.equal(encode(kept), encode(expected), 'the kept state is what plain data would hold')
      t.equal(findProxy(kept), undefined)
      if (apart) t.equal(encode(state), before, 'apart: the state the turn began from is as it was')
    }),
    { numRuns: 300 },
  )
})
