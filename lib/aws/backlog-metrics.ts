// The backlog gauges of a process that consumes its streams (a container, `troupe dev`): the Lambda
// host writes each type's Parked, OldestParkedAgeMs, Running and IteratorAgeMs (backlog-gauges.ts)
// after each invocation; a consumer has no invocations, so it writes them every `everyMs`, and once
// more at stop, as the same CloudWatch EMF lines (lib/metrics/emf.ts), to the sink it is given.
// Each take is the readings since the last one (the most slots seen, the oldest record's age), so
// a reading between two writes is not lost, only folded into the next.
import type { Clock, TimerHandle } from '../core/clock.js'
import { emfLines } from '../metrics/emf.js'
import type { BacklogGauges } from './backlog-gauges.js'

/** Where a consuming process writes its backlog gauges (AwsSystemOptions.metrics). */
export interface BacklogMetricsOptions {
  /** The `Service` dimension. @default the table name */
  service?: string
  /**
   * How often the gauges are written, in ms: CloudWatch keeps a minute's Maximum, so once a
   * minute loses nothing an alarm reads, at one log line per type a minute.
   * @default 60_000
   */
  everyMs?: number
  /** Takes each EMF line. @default a line on stdout (where the CloudWatch agent or a log router that reads EMF picks it up) */
  write?: (line: string) => void
}

const NO_COUNTS = { types: new Map(), traffic: [] }

export class BacklogMetrics {
  private timer: TimerHandle | undefined
  private readonly service: string
  private readonly everyMs: number
  private readonly write: (line: string) => void

  constructor(
    private readonly gauges: BacklogGauges,
    private readonly clock: Clock,
    tableName: string,
    options: BacklogMetricsOptions,
  ) {
    this.service = options.service ?? tableName
    this.everyMs = options.everyMs ?? 60_000
    this.write = options.write ?? ((line) => void process.stdout.write(`${line}\n`))
    this.schedule()
  }

  /** Writes the gauges read since the last write, and stops: the last readings of a process that stops are not lost. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.flush()
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.flush()
      this.schedule()
    }, this.everyMs)
  }

  private flush(): void {
    try {
      for (const line of emfLines(this.service, this.clock.now(), NO_COUNTS, undefined, this.gauges.take())) this.write(line)
    } catch (error) {
      // A sink that throws loses these readings, not the process (this runs on a timer).
      process.emitWarning(`troupe: the backlog metrics could not be written: ${(error as Error).message}`)
    }
  }
}
