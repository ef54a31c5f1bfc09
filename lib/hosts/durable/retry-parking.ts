// A retry that asks for a long wait (a RetryableError's `retryAfterMs`, a long backoff) parks its
// message in the instance's item, as a throttle parks one (instance-throttle.ts): the record is
// marked read so the shard moves on, the key's later messages are parked behind it in order, and
// a wake-up at the retry's time runs it again, no sooner than asked. A short wait is waited out in
// place, or by the next delivery of its record: a wake-up costs a timer and a commit, and on a
// Lambda host it fires on the next scheduled tick, up to a minute late.
import type { Clock } from '../../core/clock.js'
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { InstanceMeta } from './instance-meta.js'

/** The longest retry wait a run sits out in place; a longer one parks its message. */
export const RETRY_PARK_MS = 5_000

/** Waits until `retryAt`, or `deadline` if that comes first; true once the retry is due. */
export async function retryDue(clock: Clock, retryAt: number, deadline: number): Promise<boolean> {
  await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(retryAt, deadline) - clock.now()))
  return retryAt <= clock.now()
}

/** When the message `id` may be tried again, if it is the instance's failing message and waits. */
export function retryAtOf(meta: InstanceMeta, id: string): number | undefined {
  return meta.failing?.id === id ? meta.failing.retryAt : undefined
}

/** When the wake-up of a parked line whose head waits for its retry is due, if it does. */
export function parkedRetryAt(meta: InstanceMeta): number | undefined {
  const head = meta.parked?.[0]
  return head === undefined ? undefined : retryAtOf(meta, head.id)
}

/** Why a failed message waits, for its `retrying` receipt: the error first, as the embedded mode says it. */
export function retryReason(failures: readonly AttemptRecord[], retryAt: number, now: number): string {
  const error = failures.at(-1)?.error.message ?? 'failed'
  return `${error} (attempt ${failures.length} failed; the next runs in ${Math.max(0, retryAt - now)} ms, at ${new Date(retryAt).toISOString()}; the key's later messages wait behind it)`
}
