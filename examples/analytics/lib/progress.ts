// A live progress line on stderr: a cli-progress bar on a terminal, plain lines (about
// one a second) when stderr is a file or a pipe, nothing when quiet.

import cliProgress from 'cli-progress'

export interface ProgressCounts {
  /** Requests to post in all. */
  total: number
  /** Sent to the API. */
  posted: number
  /** Accepted by PageView. */
  accepted: number
  /** Answered 400. */
  rejected: number
  /** Counted by PageStats. */
  counted: number
  /** Dropped by a filter. */
  filtered: number
  /** Dead letters so far. */
  dead: number
}

export interface Progress {
  update(counts: ProgressCounts): void
  /** Shows the last counts and ends the display. */
  done(counts: ProgressCounts): void
}

/**
 * Requests that reached their end: answered 400, counted or filtered. A dead lookup is not
 * an end: its view is still counted, from an incomplete join.
 */
function finished(c: ProgressCounts): number {
  return Math.min(c.total, c.rejected + c.counted + c.filtered)
}

function line(c: ProgressCounts): string {
  return `posted ${c.posted}/${c.total} · accepted ${c.accepted} · rejected ${c.rejected} · counted ${c.counted} · filtered ${c.filtered} · dead ${c.dead}`
}

export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, enabled: boolean): Progress {
  if (!enabled) return { update() {}, done() {} }
  if (stream.isTTY) return new BarProgress(stream)
  return new LineProgress(stream)
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar
  private started = false

  constructor(stream: NodeJS.WritableStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'analytics {bar} {percentage}% | {line}',
        barsize: 24,
        fps: 8,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    )
  }

  update(counts: ProgressCounts): void {
    if (!this.started) {
      this.bar.start(counts.total, finished(counts), { line: line(counts) })
      this.started = true
    } else this.bar.update(finished(counts), { line: line(counts) })
  }

  done(counts: ProgressCounts): void {
    this.update(counts)
    this.bar.stop()
  }
}

class LineProgress implements Progress {
  private last = 0
  private lastLine = ''

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(counts: ProgressCounts): void {
    const now = Date.now()
    if (now - this.last < 1_000) return
    this.last = now
    this.write(counts)
  }

  done(counts: ProgressCounts): void {
    this.write(counts)
  }

  private write(counts: ProgressCounts): void {
    const text = line(counts)
    if (text === this.lastLine) return
    this.lastLine = text
    this.stream.write(`[analytics] ${text}\n`)
  }
}
