import type { ActorClass } from '../../core/actor.js'
import type { Clock } from '../../core/clock.js'
import type { Filter } from '../../core/filter.js'
import type { Logger, LogLevel } from '../../core/logger.js'
import type { Stores } from '../../store/index.js'

/** The options of `createSystem`: the embedded system, which runs every actor in this process. */
export interface SystemOptions {
  actors: readonly ActorClass[]
  /** Filters run before every actor's own filter, in order. */
  filters?: readonly Filter[]
  /** Turns running at once across all types. @default 1024 */
  concurrency?: number
  /** @default the wall clock */
  clock?: Clock
  /** For retry jitter. @default Math.random */
  random?: () => number
  /**
   * Check every message, state and reply for what would not survive the AWS mode.
   * @default true unless NODE_ENV is "production"
   */
  checkSerializable?: boolean
  /** Keep receipts for every message, not only those asked for. @default false */
  receiptsForAll?: boolean
  /** @default "info" */
  logLevel?: LogLevel
  /**
   * Where the system's lines go, `ctx.log`'s included. A Powertools for AWS Lambda Logger fits
   * through `fromPowertools(logger)` from `troupe/lambda` (docs/logging.md).
   * @default JSON lines on stderr, at `logLevel` (which a given logger ignores: it has its own)
   */
  logger?: Logger
  /** @default 10_000 */
  deadLetterLimit?: number
  /** @default 100_000 */
  receiptLimit?: number
  /**
   * Where state and timers are kept while not in memory. Pass the same stores to a new
   * system to carry on where another stopped: timers fire, evicted and stopped instances
   * come back. @default in-memory stores of this system alone
   */
  stores?: Partial<Stores>
}
