// Kinesis sequence numbers are decimal strings of up to 128 digits, too long for a number;
// without leading zeros, a longer one is the larger, and equal lengths compare as text.

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
