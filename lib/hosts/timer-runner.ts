import type { Clock, TimerHandle } from '../core/clock.js'
import { eachAtOnce } from '../core/each-at-once.js'
import type { Logger } from '../core/logger.js'
import { parseRecurrence } from '../core/recurrence.js'
import { wholeOrder } from '../core/schedule.js'
import { sameFiring, type TimerRecord, type TimerStore } from '../store/index.js'

/** Timers fired per store read; more are read at once after. */
const BATCH = 100
/**
 * Due timers a run reads past when it could not fire them: those that never can (a wake-up of a
 * type the app no longer runs) must not keep the later ones from firing, and a run must not read
 * ever more of them. Past this many stuck at the head of the store, later timers wait for them.
 */
const MAX_PASSED = 1_000
/** A run that failed is tried again after this, doubled for each run in a row that failed, up to RETRY_MAX_MS. */
const RETRY_MS = 1_000
const RETRY_MAX_MS = 30_000

/**
 * Which due timers may fire at the same time: timers of one lane fire one after another, in due
 * order; lanes fire side by side, up to `atOnce` at a time. A runner without lanes fires one timer
 * at a time (aws-timers.ts says why a runner whose firings wait on a store needs them).
 */
export interface TimerLanes {
  of(timer: TimerRecord): string
  atOnce: number
  /**
   * The instance a timer reaches, when a lane holds several (a capped type's keys share its few
   * lanes): a firing that fails keeps only its instance's later timers due behind it, and the
   * lane's other instances fire. Without it, a failed firing stops its whole lane.
   */
  instanceOf?(timer: TimerRecord): string
}

/** Every timer in one lane: one at a time, in due order. */
const ONE_LANE: TimerLanes = { of: () => '', atOnce: 1 }

/**
 * Fires durable timers from the timer store on one clock timer armed for the earliest.
 * Misfires are explicit: a timer that came due while nothing ran fires once when the
 * runner next looks, and a recurring one then resumes from now — never a backlog.
 */
export class TimerRunner {
  private timer: TimerHandle | undefined
  private armedAt = Infinity
  /** The run in progress, so stop() can wait for its store writes. */
  private current: Promise<void> | undefined
  /**
   * Armed on its own clock timer once started; a runner never started fires only when asked
   * (`fireDue`); a stopped one fires nothing more. One field that `start` already moves (the
   * embedded host starts its runner as it is made): a flag first written at stop would have V8
   * drop the optimized code that read it, in every system.
   */
  private state: 'idle' | 'started' | 'stopped' = 'idle'
  /** Runs in a row that failed: the next waits longer, so timers that cannot fire are not read again every second. */
  private failedRuns = 0

  constructor(
    private readonly clock: Clock,
    private readonly store: TimerStore,
    /** Tells the timer's message; a promise is awaited before the timer moves on, so a failed send keeps it. */
    private readonly fire: (timer: TimerRecord) => void | Promise<void>,
    private readonly logger: Logger,
    private readonly lanes: TimerLanes = ONE_LANE,
  ) {}

  start(): void {
    if (this.state === 'idle') this.state = 'started'
    void this.rearm()
  }

  /**
   * Fires what is due now and resolves when done: for a host that only runs when invoked (a
   * Lambda woken by a scheduled tick), where no timer may wait in the process.
   */
  fireDue(deadline = Infinity): Promise<void> {
    this.current ??= this.run(deadline).finally(() => (this.current = undefined))
    return this.current
  }

  /** A timer was put: wake earlier if it is due before the one armed. */
  notify(dueAt: number): void {
    if (this.state === 'started' && dueAt < this.armedAt) this.arm(dueAt)
  }

  /** Reads the store again: for timers another process put, which `notify` never hears of. */
  poke(): void {
    if (this.state === 'started' && this.current === undefined) void this.rearm()
  }

  /** Fires nothing more; resolves once a run in progress has written its last timer. */
  stop(): Promise<void> {
    this.state = 'stopped'
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    return this.current ?? Promise.resolve()
  }

  private arm(at: number): void {
    // A read that was in flight when stop() ran must not arm a timer that outlives the runner.
    if (this.state === 'stopped') return
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.armedAt = at
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.armedAt = Infinity
      if (this.current !== undefined || this.state === 'stopped') return
      this.current = this.run().finally(() => (this.current = undefined))
    }, Math.max(0, at - this.clock.now()))
  }

  private async rearm(): Promise<void> {
    if (this.state !== 'started') return
    try {
      const next = await this.store.next()
      if (next !== undefined) this.arm(next)
    } catch (error) {
      this.logger.error('timer store unreadable; retrying in 1 s', { error: (error as Error).message })
      this.arm(this.clock.now() + 1_000)
    }
  }

  /** Fires what is due; past `deadline` (a Lambda tick's time), it starts no firing and reads no more. */
  private async run(deadline = Infinity): Promise<void> {
    try {
      // Due timers this run did not fire (a firing failed, or one before it in its lane or
      // instance did): the reads after it ask for that many more, and pass over them, so timers
      // that can never fire do not keep the later ones from firing.
      const left = new Set<string>()
      const stopped = new Set<string>()
      const read = new Set<string>()
      let failed = 0
      for (;;) {
        const now = this.clock.now()
        const limit = BATCH + Math.min(left.size, MAX_PASSED)
        const found = await this.store.due(now, limit)
        const before = left.size
        const due: TimerRecord[] = []
        for (const t of found) {
          read.add(t.id)
          if (left.has(t.id)) continue
          if (stopped.has(this.instanceOf(t))) left.add(t.id)
          else due.push(t)
        }
        failed += await this.fireInLanes(due, this.lanes, now, left, stopped, deadline)
        if (this.state === 'stopped') return
        if (this.clock.now() >= deadline) break
        // A runner without instances in its lanes stops at a failure, as its one lane does.
        if (found.length < limit || (due.length === 0 && left.size === before) || (failed > 0 && this.lanes.instanceOf === undefined)) break
      }
      if (failed > 0) throw new Error(`${failed} of ${read.size} due timers could not fire`)
    } catch (error) {
      // Tried again after the wait, or sooner when the store is read again (a tick's poke); a runner
      // that only fires when asked (a Lambda's tick) tries at the next ask.
      const waitMs = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** this.failedRuns++)
      const when = this.state === 'started' ? `trying again within ${waitMs / 1000} s` : 'they stay due for the next run'
      this.logger.error(`firing timers failed; ${when}`, { error: (error as Error).message })
      if (this.state === 'started') this.arm(this.clock.now() + waitMs)
      return
    }
    this.failedRuns = 0
    await this.rearm()
  }

  /**
   * Fires `due` lane by lane. A failed firing stops its own lane (its later timers stay due behind
   * it) and is logged; the other lanes go on. Where a lane holds several instances (`instanceOf`),
   * only the failed one's later timers stay behind it. What it did not fire goes into `left`, and
   * what a failure stopped (an instance, or a lane) into `stopped`, for the rest of the run.
   * Answers how many firings failed.
   */
  private async fireInLanes(due: readonly TimerRecord[], lanes: TimerLanes, now: number, left: Set<string>, stopped: Set<string>, deadline: number): Promise<number> {
    let failed = 0
    await eachAtOnce(this.inLanes(due, lanes), lanes.atOnce, async (lane) => {
      for (const [n, t] of lane.entries()) {
        if (this.state === 'stopped') return
        const instance = this.instanceOf(t)
        if (stopped.has(instance) || this.clock.now() >= deadline) {
          left.add(t.id)
          continue
        }
        try {
          await this.fire(t)
          await this.advance(t, now)
        } catch (error) {
          failed++
          left.add(t.id)
          stopped.add(instance)
          this.logger.error('a timer could not fire; it and the later timers of its lane stay due', { timerId: t.id, target: t.target, error: (error as Error).message })
          if (lanes.instanceOf === undefined) {
            for (const later of lane.slice(n + 1)) left.add(later.id)
            return
          }
        }
      }
    })
    return failed
  }

  /** What a failed firing stops: its instance, where the lanes tell it; else its whole lane. */
  private instanceOf(t: TimerRecord): string {
    return this.lanes.instanceOf?.(t) ?? this.lanes.of(t)
  }

  /** Due timers by lane, each lane in due order, the lanes in the order of their first timer. */
  private inLanes(due: readonly TimerRecord[], lanes: TimerLanes): TimerRecord[][] {
    const byLane = new Map<string, TimerRecord[]>()
    for (const t of due) {
      const name = lanes.of(t)
      const lane = byLane.get(name)
      if (lane === undefined) byLane.set(name, [t])
      else lane.push(t)
    }
    return [...byLane.values()]
  }

  /**
   * A one-shot timer is done; a recurring one moves to its next due time after `now`. Either only
   * while the store holds this firing (TimerStore.advance): the firing's own turn may have
   * scheduled the same name again, or a turn cancelled it, and that stands.
   */
  private async advance(t: TimerRecord, now: number): Promise<void> {
    const recurrence = t.every === undefined ? undefined : parseRecurrence(t.every)
    let dueAt = recurrence?.(t.dueAt)
    if (recurrence !== undefined && dueAt !== undefined && dueAt <= now) dueAt = recurrence(now)
    await moveOn(this.store, t, dueAt === undefined ? undefined : { ...t, dueAt, fired: t.fired + 1 })
  }
}

/**
 * Moves fired timer `fired` on, to `next` or out of `store`, while the store holds that firing:
 * TimerStore.advance, or for a store without it a read and then the write. True when it moved.
 */
export async function moveOn(store: TimerStore, fired: TimerRecord, next: TimerRecord | undefined): Promise<boolean> {
  if (store.advance !== undefined) return store.advance(fired, next)
  const stored = await store.get(fired.id)
  if (stored === undefined || !sameFiring(stored, fired)) return false
  // An ordered timer is moved on by a write just after the one that set it: above that commit
  // sent again (no write of its id in it comes later), below any later commit's, which a write
  // landing between the read and this one stays.
  const order = wholeOrder(fired.order)
  const after = order === undefined ? undefined : { ...order, n: order.n + 1 }
  if (next === undefined) await store.delete(fired.id, after)
  else await store.put(after === undefined ? next : { ...next, order: after })
  return true
}
