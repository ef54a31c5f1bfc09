/** Tuned defaults, in one place. Units are in the names. */

/** Attempts per message, the first included, before it becomes a dead letter. */
export const DEFAULT_MAX_ATTEMPTS = 5
/** First retry waits up to this long (full jitter: a random delay between 0 and the cap). */
export const DEFAULT_INITIAL_DELAY_MS = 100
/** No retry waits longer than this. */
export const DEFAULT_MAX_DELAY_MS = 30_000
/** Each retry's cap is the previous one times this. */
export const DEFAULT_BACKOFF_MULTIPLIER = 2
/** A turn still running after this long is failed and retried; 0 turns the limit off. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000
/** Turns of one actor type running at once. */
export const DEFAULT_TYPE_CONCURRENCY = 256
/** Turns running at once in the whole system. */
export const DEFAULT_SYSTEM_CONCURRENCY = 1024
/** An `ask` without `timeoutMs` gives up after this long. */
export const DEFAULT_ASK_TIMEOUT_MS = 30_000
/** A busy instance hands its slot to waiting instances after this many turns in a row. */
export const TURNS_PER_SLICE = 64
/** Synchronous turns in a row before troupe yields to the event loop, so I/O and timers still run. */
export const TURNS_BEFORE_YIELD = 2_048
/** Dead letters kept in memory by the embedded system; the oldest are dropped (and counted) beyond it. */
export const DEFAULT_DEAD_LETTER_LIMIT = 10_000
/** Final receipts kept in memory by the embedded system; the oldest are dropped beyond it. */
export const DEFAULT_RECEIPT_LIMIT = 100_000
/** `stop()` waits this long for queued and retrying messages before dead-lettering what is left. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000
/**
 * How long what recognises a copy outlives its message: a deleted instance's item, and the death
 * of a dead letter replayed or taken. Above a stream's retention (a record, and so a redelivery of
 * it, is gone by then) and a send's last try.
 */
export const DEFAULT_TOMBSTONE_TTL_MS = 8 * 24 * 60 * 60_000
