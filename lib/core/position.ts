// Positions in a lane. Kinesis sequence numbers are decimal strings of up to 128 digits, too long
// for a number; without leading zeros, a longer one is the larger, and equal lengths compare as text.

/** Negative when `a` came before `b` in its shard, 0 when equal, positive after. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** The earlier of two sequence numbers; `undefined` counts as none. */
export function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareSequence(a, b) <= 0 ? a : b
}

/**
 * A position in a lane: a decimal number (a record's sequence number, a process's count), with
 * `:member` for a message of an aggregate record. Anything else is refused where positions enter.
 */
export const POSITION = /^[1-9][0-9]{0,127}(:[0-9]{1,9})?$|^0(:[0-9]{1,9})?$/

/** The position of a record, or of member `member` of an aggregate record. */
export function positionOf(sequenceNumber: string, member?: number): string {
  return member === undefined || member === 0 ? sequenceNumber : `${sequenceNumber}:${member}`
}

/** Negative when position `a` comes before `b` in its lane, 0 when equal, positive after; a record's position equals its member 0's. */
export function comparePosition(a: string, b: string): number {
  const ca = a.indexOf(':')
  const cb = b.indexOf(':')
  const order = compareSequence(ca < 0 ? a : a.slice(0, ca), cb < 0 ? b : b.slice(0, cb))
  if (order !== 0) return order
  return (ca < 0 ? 0 : Number(a.slice(ca + 1))) - (cb < 0 ? 0 : Number(b.slice(cb + 1)))
}

