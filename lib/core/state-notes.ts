// A turn's notes (see StateJournal): on a key's first change in the turn, what the key held
// before; and how to read a noted key now and put what it held back.
import { setKey } from './state-copy.js'
import { MAP, OBJECT, type Kind } from './state-draft.js'

/** The first change a turn made to one key of one container: what the key held before. */
export interface Note {
  target: object
  key: unknown
  kind: Kind
  had: boolean
  old: unknown
}

/** Notes a turn looks through one by one before it indexes them: most turns change a few keys. */
export const SCAN_LIMIT = 16

/** What `note.key` of `note.target` holds now: whether it is there, and its value. */
export function read(note: Note): [boolean, unknown] {
  const { target, key } = note
  switch (note.kind) {
    case OBJECT: {
      const had = Object.hasOwn(target, key as PropertyKey)
      return [had, had ? (target as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined]
    }
    case MAP: {
      const map = target as Map<unknown, unknown>
      return map.has(key) ? [true, map.get(key)] : [false, undefined]
    }
    default:
      return [(target as Set<unknown>).has(key), undefined]
  }
}

export function indexNote(index: Map<object, Map<unknown, Note>>, note: Note): void {
  let keys = index.get(note.target)
  if (keys === undefined) index.set(note.target, (keys = new Map()))
  keys.set(note.key, note)
}

/** What `note.key` of `note.target` holds now, when it is there (an object's or a Map's). */
export function valueOf(note: Note): unknown {
  return note.kind === MAP ? (note.target as Map<unknown, unknown>).get(note.key) : (note.target as Record<PropertyKey, unknown>)[note.key as PropertyKey]
}

/** Makes `note.key` of `note.target` hold `value`, or not be there. */
export function put(note: Note, had: boolean, value: unknown): void {
  const { target, key } = note
  switch (note.kind) {
    case OBJECT:
      if (had) setKey(target, key as PropertyKey, value)
      else delete (target as Record<PropertyKey, unknown>)[key as PropertyKey]
      return
    case MAP:
      if (had) (target as Map<unknown, unknown>).set(key, value)
      else (target as Map<unknown, unknown>).delete(key)
      return
    default:
      if (had) (target as Set<unknown>).add(key)
      else (target as Set<unknown>).delete(key)
  }
}
