// Whether what a turn wrote survives superjson (see StateJournal.writesSerializable): for a turn
// that began from a serialisable state and kept its root, checking the keys it wrote is checking
// the whole state, at the cost of what the turn touched.
import { findUnserializable, isRefusedKey } from './serializable.js'
import { draftOf, OBJECT, SET, type Overlay } from './state-draft.js'
import { read, type Note } from './state-notes.js'

/** True when every key the turn changed, and every key in a tail, holds what superjson keeps as it is. */
export function writtenSerializable(notes: readonly Note[], overlays: ReadonlyMap<object, Overlay> | undefined): boolean {
  for (const note of notes) {
    // A key superjson refuses (or a Map's key that reads like one): the whole state is looked at.
    if (typeof note.key === 'symbol' || (typeof note.key === 'string' && isRefusedKey(note.key))) return false
    const [has, value] = read(note)
    if (!has) continue
    if (note.kind !== OBJECT && unserializable(note.key)) return false
    if (note.kind === SET) continue
    if (Array.isArray(note.target) && !whole(note.target, note)) return false
    if (unserializable(value)) return false
  }
  for (const overlay of overlays?.values() ?? []) {
    for (const [k, v] of overlay.tail) if ((typeof k === 'string' && isRefusedKey(k)) || unserializable(k) || unserializable(v)) return false
  }
  return true
}

/** False when a write left a hole in the array (superjson would change it). */
function whole(array: unknown[], note: Note): boolean {
  if (note.key === 'length') {
    for (let i = note.old as number; i < array.length; i++) if (!(i in array)) return false
    return true
  }
  const i = Number(note.key)
  return !(Number.isInteger(i) && i >= 0 && i < array.length && !(i in array))
}

function unserializable(value: unknown): boolean {
  return draftOf(value) === undefined && findUnserializable(value) !== undefined
}
