import { NO_READING, type Clock, type TimerHandle } from '../../core/clock.js'
import * as d from '../../core/defaults.js'
import { detached } from '../../turn/turn-trace.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'

/** Workers one microtask starts at most. */
const WORKERS_PER_PASS = 256

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Where one worker is in its run of turns. A class whose clock reading is a reading from the
 * start: an object made once per system (the shared pass) that began with a small integer there
 * and later held a reading would change shape in the next system made, and V8 would drop the
 * optimized code of every turn.
 */
class WorkerPass {
  /** Synchronous turns in a row since the last wait: past TURNS_BEFORE_YIELD the worker yields. */
  inRow = 0
  /** Turns in this slice: past TURNS_PER_SLICE waiting instances get the slot. */
  slice = 0
  /** The worker waits for an async turn (counted in the instance's `awaiting`), not a load or a yield. */
  turnWaits = false

  /** `now`: the clock, read once, then again after every wait: back-to-back synchronous turns share a reading. */
  constructor(public now: number) {}

  copy(): WorkerPass {
    const pass = new WorkerPass(this.now)
    pass.inRow = this.inRow
    pass.slice = this.slice
    pass.turnWaits = this.turnWaits
    return pass
  }
}

/** What the dispatcher asks of its host. */
export interface DispatchHooks {
  /** Runs one attempt of the message just shifted from `inst`; a promise only if the turn is async. */
  turn(inst: Instance, now: number): Promise<void> | undefined
  /** A turn waits for a token of its key's or its type's bucket. */
  throttled(inst: Instance, waitMs: number, scope: 'key' | 'type', now: number): void
}

/** Dispatchers with workers woken and not started, in the order they were woken. */
const toStart: Dispatcher[] = []

/**
 * Starts a dispatcher's woken workers on a later microtask, with every other dispatcher's woken
 * meanwhile. One function for every system: a microtask that called a closure of one system's
 * would have V8 drop its optimized code when the next system's came.
 */
function startSoon(dispatcher: Dispatcher): void {
  toStart.push(dispatcher)
  if (toStart.length === 1) queueMicrotask(detached(startQueued))
}

/** The microtask: each dispatcher queued starts its workers; one that queues again (more were woken than a pass starts) waits for the next. */
function startQueued(): void {
  const n = toStart.length
  let i = 0
  try {
    while (i < n) toStart[i++]!.startWorkers()
  } finally {
    dropFirst(toStart, i)
    if (toStart.length !== 0) queueMicrotask(detached(startQueued))
  }
}

/**
 * Drops the first `n` of a list of those to start. Emptied by pops when that is all of it:
 * `length = 0` drops the array's storage, and the next pass would make it anew.
 */
function dropFirst<T>(list: T[], n: number): void {
  if (n === list.length) while (list.length !== 0) list.pop()
  else list.splice(0, n)
}

/**
 * Decides when turns run: workers per instance (one for keyed and singleton instances,
 * up to the type's concurrency for stateless ones, a new one only while all others wait
 * for async turns, so synchronous turns run back to back in one worker), caps per type and for the system,
 * fair turns between instances in line, token buckets, and parking for retries and tokens.
 */
export class Dispatcher {
  /** Workers running now, across all types. */
  running = 0
  private readonly parkTimers = new Map<Instance, TimerHandle>()
  /** Workers woken and not started yet, in the order woken. */
  private readonly starting: Instance[] = []
  /** The pass of the worker running now, while it runs without waiting (see work). */
  private readonly pass: WorkerPass
  /** Turns run so far. */
  private turns = 0
  /**
   * The clock's reading that workers starting now share, and the turns run when it was taken:
   * workers started by one microtask share a reading as one worker's back-to-back turns do, for
   * as many turns as a slice (a fork of ten starts four workers, each of which read the clock, at
   * about 100 ns a read on some machines).
   */
  private reading = 0
  private readingTurns = -d.TURNS_PER_SLICE
  /**
   * The reading tells from outside a turn share now, how many more may share it, and the turns run
   * when it was taken (see outsideNow). Tagged, so the tells sharing it take one number (NO_READING).
   */
  private outsideReading: number = NO_READING
  private outsideReadsLeft = 0
  private outsideTurns = 0
  /** A microtask that gives up the outside reading is queued. */
  private stretchEnds = false

  constructor(
    private readonly clock: Clock,
    private readonly maxRunning: number,
    private readonly runtimes: readonly ActorRuntime[],
    private readonly hooks: DispatchHooks,
  ) {
    this.pass = new WorkerPass(clock.now())
  }

  /** Starts workers on an instance while it has work and slots are free; otherwise puts it in line. */
  wake(inst: Instance): void {
    const rt = inst.rt
    while (inst.hasWork()) {
      if (rt.running >= rt.policy.concurrency || this.running >= this.maxRunning) {
        if (!inst.waiting) {
          inst.waiting = true
          rt.waiting.push(inst)
        }
        return
      }
      inst.active++
      rt.running++
      this.running++
      // Never run a turn inside the caller's tell: workers start on a later microtask, all that
      // are woken meanwhile on the same one (a microtask each cost more than their turns here).
      this.starting.push(inst)
      if (this.starting.length === 1) startSoon(this)
    }
  }

  /**
   * Starts the workers woken, outside the span of whoever woke them. Workers woken by these turns
   * start in the same pass, up to a bound: past it the rest start on the next microtask, so
   * actors that wake each other forever leave other microtasks their turn.
   */
  startWorkers(): void {
    const starting = this.starting
    // A microtask later than the last pass: its reading is old.
    this.readingTurns = this.turns - d.TURNS_PER_SLICE
    let started = 0
    while (started < starting.length && started < WORKERS_PER_PASS) this.work(starting[started++]!)
    dropFirst(starting, started)
    if (starting.length !== 0) startSoon(this)
  }

  /**
   * The clock's reading for a message told from outside a turn (its sentAt). Tells in one stretch
   * of synchronous code share a reading, for up to a slice's worth, as one worker's turns do: a
   * loop of tells reads the clock once per slice instead of once per message (a read costs about a
   * sixth of a tell on some machines). The reading is given up by a microtask queued when it is
   * taken, so a tell after the stretch, however soon, reads the clock again; so does a tell after
   * a turn ran (system.tell in a receive). Deadlines are not taken from it (an ask's, a fork's):
   * code that runs long between two calls would shorten them.
   */
  outsideNow(): number {
    if (this.outsideReadsLeft !== 0 && this.turns === this.outsideTurns) {
      this.outsideReadsLeft--
      return this.outsideReading
    }
    this.outsideReading = this.clock.now()
    this.outsideReadsLeft = d.TURNS_PER_SLICE - 1
    this.outsideTurns = this.turns
    if (!this.stretchEnds) {
      this.stretchEnds = true
      queueMicrotask(this.endStretch)
    }
    return this.outsideReading
  }

  /** The stretch of code that took the outside reading ended: the next tell reads the clock. Made once, so queueing it allocates nothing. */
  private readonly endStretch = (): void => {
    this.outsideReadsLeft = 0
    this.stretchEnds = false
  }

  /** A slot came free: hand it to the next instance in line, this type first. */
  private refill(rt: ActorRuntime): void {
    this.drainWaiting(rt)
    if (this.running < this.maxRunning) for (const other of this.runtimes) if (other !== rt && other.waiting.length) this.drainWaiting(other)
  }

  private drainWaiting(rt: ActorRuntime): void {
    while (rt.waiting.length !== 0 && rt.running < rt.policy.concurrency && this.running < this.maxRunning) {
      const inst = rt.waiting.shift()!
      inst.waiting = false
      this.wake(inst)
    }
  }

  /**
   * One worker: runs turns from the instance's mailbox until it is empty, parked, or its slice is
   * used. Synchronous turns run back to back without a promise; the worker goes on asynchronously
   * only when it must wait (a load, an async turn, a yield to the event loop).
   */
  private work(inst: Instance): void {
    // Workers start one after another and never inside one another's turns (wake() only queues
    // them), so a worker that ends without waiting, as most do, runs on the one shared pass; one
    // that waits takes a copy of its own.
    const pass = this.pass
    pass.inRow = 0
    pass.slice = 0
    if (this.turns - this.readingTurns >= d.TURNS_PER_SLICE) {
      this.reading = this.clock.now()
      this.readingTurns = this.turns
    }
    pass.now = this.reading
    pass.turnWaits = false
    let wait: Promise<void> | undefined
    try {
      wait = inst.loading ?? this.runTurns(inst, pass)
    } catch (error) {
      this.finish(inst)
      throw error
    }
    if (wait === undefined) this.finish(inst)
    else void this.workOn(inst, pass.copy(), wait)
  }

  private async workOn(inst: Instance, pass: WorkerPass, wait: Promise<void>): Promise<void> {
    try {
      for (;;) {
        if (pass.turnWaits) {
          try {
            await wait
          } finally {
            inst.awaiting--
          }
        } else {
          await wait
        }
        pass.now = this.clock.now()
        const next = this.runTurns(inst, pass)
        if (next === undefined) return
        wait = next
      }
    } finally {
      this.finish(inst)
    }
  }

  /** Runs turns while it may; returns what the worker must wait for, or undefined when it is done. */
  private runTurns(inst: Instance, pass: WorkerPass): Promise<void> | undefined {
    const rt = inst.rt
    const mailbox = inst.mailbox
    pass.turnWaits = false
    for (;;) {
      if (pass.slice >= d.TURNS_PER_SLICE) {
        pass.slice = 0
        pass.now = this.clock.now()
        if (rt.waiting.length !== 0 || this.running >= this.maxRunning) {
          // Let waiting instances have the slot; this one goes to the back of the line.
          if (mailbox.size !== 0 && !inst.waiting) {
            inst.waiting = true
            rt.waiting.push(inst)
          }
          return undefined
        }
      }
      if (inst.parked || mailbox.size === 0 || inst.paused) return undefined
      if ((rt.typeBucket !== undefined || inst.bucket !== undefined) && !this.takeToken(inst, pass.now)) return undefined
      mailbox.shift()
      rt.queued--
      const pending = this.hooks.turn(inst, pass.now)
      pass.slice++
      this.turns++
      if (pending !== undefined) {
        // While this turn waits, another worker takes the next message (stateless types run many).
        inst.awaiting++
        pass.turnWaits = true
        pass.inRow = 0
        if (inst.maxActive > 1) this.wake(inst)
        return pending
      }
      if (++pass.inRow >= d.TURNS_BEFORE_YIELD) {
        pass.inRow = 0
        return yieldToEventLoop()
      }
    }
  }

  /** The worker ends: its slot goes to the next in line. */
  private finish(inst: Instance): void {
    const rt = inst.rt
    inst.active--
    rt.running--
    this.running--
    this.refill(rt)
    if (!inst.waiting) this.wake(inst)
  }

  /** Takes a token from the type's and the key's bucket, or parks the instance until one is due. */
  private takeToken(inst: Instance, now: number): boolean {
    const rt = inst.rt
    const keyWait = inst.bucket?.waitMs(now) ?? 0
    const typeWait = keyWait === 0 ? (rt.typeBucket?.waitMs(now) ?? 0) : 0
    const waitMs = keyWait || typeWait
    if (waitMs === 0) {
      inst.bucket?.take()
      rt.typeBucket?.take()
      return true
    }
    this.hooks.throttled(inst, waitMs, keyWait ? 'key' : 'type', now)
    this.park(inst, waitMs)
    return false
  }

  park(inst: Instance, ms: number): void {
    inst.parked = true
    // A second park of a parked instance replaces its wake-up: two timers would wake it twice, and the first would be left running past stop.
    const earlier = this.parkTimers.get(inst)
    if (earlier !== undefined) this.clock.clearTimeout(earlier)
    const timer = this.clock.setTimeout(() => {
      this.parkTimers.delete(inst)
      inst.parked = false
      this.wake(inst)
    }, ms)
    this.parkTimers.set(inst, timer)
  }

  /** Clears every parking timer (stop past its timeout); the parked instances stay parked. */
  cancelParks(): void {
    for (const timer of this.parkTimers.values()) this.clock.clearTimeout(timer)
    this.parkTimers.clear()
  }
}
