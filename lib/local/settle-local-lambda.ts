// Waiting until the local Lambda path has nothing left to do, for tests and `troupe dev`: the
// producers' sends are answered, no invocation runs or waits, and every mapping has read each
// shard to its tip with no batch in flight and no retry pending.
//
// One pass is not enough: a batch that ends after its shard's last empty read may have put new
// records (its outbox) on the stream. So the pass repeats until one in which the mappings read
// nothing and delivered nothing.
import type { LocalEventSourceMapping } from './local-event-source-mapping.js'
import type { LocalFunction } from './local-function.js'
import { NotIdleError } from './not-idle-error.js'

/** The parts of a local Lambda path to wait for. */
export interface LocalLambdaPath {
  /** What tells into the streams (an `AwsSystem`): its transport is flushed first. */
  producers?: readonly { transport: { flush(): Promise<void> } }[]
  /** The functions: the mappings' and any invoked directly (`ask` by Invoke). */
  functions: readonly LocalFunction[]
  mappings: readonly LocalEventSourceMapping[]
}

export interface SettleOptions {
  /** @default 60_000 */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 60_000

/**
 * Resolves once the local Lambda path has settled: everything told so far, and everything it
 * caused, has been delivered and answered. Timers not yet due, and the mappings' ticks, are not
 * waited for. Rejects after `timeoutMs` with a NotIdleError (`TROUPE_LAMBDA_NOT_IDLE`) naming
 * what was still busy.
 *
 * @example
 * await system.tell(Orders, { id: 'o-1' })
 * await settleLocalLambda({ producers: [system], functions: [fn], mappings: [esm] })
 * console.log(await system.state(Orders, 'o-1'))
 */
export async function settleLocalLambda(path: LocalLambdaPath, options: SettleOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const until = Date.now() + timeoutMs
  const left = () => Math.max(1, until - Date.now())
  const moved = () =>
    path.mappings.reduce((n, m) => {
      const s = m.stats()
      return n + s.recordsRead + s.batches
    }, 0)
  try {
    for (;;) {
      const before = moved()
      for (const p of path.producers ?? []) await flushWithin(p.transport, left())
      for (const fn of path.functions) await fn.idle({ timeoutMs: left() })
      for (const m of path.mappings) await m.idle({ timeoutMs: left() })
      if (moved() === before) return
    }
  } catch (error) {
    if (!(error instanceof NotIdleError)) throw error
    throw new NotIdleError('the local Lambda path', timeoutMs, error.busy.map((b) => `${error.what}: ${b}`))
  }
}

function flushWithin(transport: { flush(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotIdleError('a producer', ms, ['its transport still had records without an answer from Kinesis'])), ms)
  })
  return Promise.race([transport.flush(), late]).finally(() => clearTimeout(timer))
}
