/** Opaque handle of a timer set through a {@link Clock}. */
export type TimerHandle = { readonly __brand: 'TimerHandle' }

/** Time comes through this, so tests run the supervisor on simulated time. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/**
 * The times a Date can hold, either way of 1970, in epoch milliseconds. A message's times stay
 * within it: one becomes a dead letter's `deadAt`, a number DynamoDB keeps, and one past its
 * range (1e300) would make the letter unwritable and its batch come again for ever.
 */
export const MAX_EPOCH_MS = 8.64e15

/** Whether `v` is a time a Date can hold. */
export function isEpochMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_EPOCH_MS
}

/**
 * What a field or array that will hold clock readings starts as, so that V8 keeps it tagged. A
 * reading (epoch ms) is no small integer: a field or array V8 keeps as unboxed doubles boxes it
 * anew (16 bytes) on every read, or on every object made; tagged, whatever shares one reading
 * (the turns, tells and envelopes of one stretch) shares its number.
 */
export const NO_READING = undefined as unknown as number

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
}
