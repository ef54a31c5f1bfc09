// The execution environments of a local Lambda function (local-function.ts runs the invocations
// in them): which environment takes an invocation, starting them on the runtime's Node, and
// losing them (a crash, a kill, a retirement). As Lambda does (AWS-SEMANTICS.md §6): an
// invocation takes the most recently used idle environment of the version it is routed to, or
// starts one, up to the concurrency limit, which counts every version's environments; at the
// limit an idle one of another version is retired to make room, else the invocation waits its
// turn. Environments of a version no longer routed retire: idle ones at once, busy ones (and
// those in init) when that is over; a retirement is not a crash.
import { TroupeError } from '../core/errors.js'
import { exitText, spawnEnvironment, type Environment, type EnvironmentInfo, type EnvironmentSpec, type KillOptions } from './execution-environment.js'
import type { FunctionSettings } from './function-options.js'
import type { FunctionVersions } from './function-versions.js'
import type { FunctionErrorPayload } from './invoke-result.js'
import { knownRuntimeNode, runtimeNode } from './runtime-node.js'

/** What the pool counts, in the function's stats. */
export interface PoolCounts {
  inits: number
  initErrors: number
  crashes: number
  initMs: number
  retired: number
}

/** The init error of the environment started for an invocation, and its version. */
export type InitFailure = Error & { error: FunctionErrorPayload; version: string }

export class EnvironmentPool {
  private readonly pool = new Set<Environment>()
  private readonly waiting: (() => void)[] = []
  /** The runtime's node binary, once found (environments start only after that). */
  private node: string | undefined
  private finding: Promise<string> | undefined
  private nextEnvironment = 0
  private stopped = false

  constructor(
    private readonly settings: FunctionSettings,
    private readonly versions: FunctionVersions,
    private readonly counts: PoolCounts,
  ) {
    // Known already (this process's own major, or found before): invocations spawn at once, as
    // they always did; else the first one waits for runtimeNode.
    this.node = knownRuntimeNode(settings.runtime)
  }

  /** The node binary of the function's runtime; a failure is kept (see LocalFunction.resolveNode). */
  resolveNode(): Promise<string> {
    this.finding ??= runtimeNode(this.settings.runtime).then((node) => (this.node = node))
    return this.finding
  }

  /** Throws once the pool is stopped: nothing starts any more. */
  assertRunning(): void {
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.settings.name} is stopped`)
  }

  /** The environments alive, exiting ones left out. */
  alive(): number {
    return [...this.pool].filter((e) => !e.dead).length
  }

  /** The environments alive now (not those exiting), oldest first. */
  environments(): EnvironmentInfo[] {
    return [...this.pool]
      .filter((e) => !e.dead && e.child.pid !== undefined)
      .sort((a, b) => a.id - b.id)
      .map((e) => ({
        id: e.id,
        pid: e.child.pid!,
        state: e.running ? 'busy' : e.initialized ? 'idle' : 'init',
        ...(e.running ? { requestId: e.running.requestId } : {}),
        startedAt: e.startedAt,
        invocations: e.invocations,
        version: e.version,
        ...(e.retiring ? { retiring: true as const } : {}),
      }))
  }

  /** Ends one environment with SIGKILL, as a crash would (see LocalFunction.kill). */
  async kill(target: number | { pid: number }, options: KillOptions = {}): Promise<boolean> {
    const env = [...this.pool].find((e) => (typeof target === 'number' ? e.id === target : e.child.pid === target.pid))
    if (!env || env.dead) {
      await env?.exited
      return false
    }
    if (options.when === 'busy' && !env.running) env.doomed = true
    else env.crash()
    await env.exited
    return env.crashed
  }

  /** What keeps the function from being idle, with `inFlight` invocations running or waiting. */
  busy(inFlight: number): string[] {
    const now = Date.now()
    const running = [...this.pool].filter((e) => e.running)
    const busy = running.map((e) => `an invocation running in environment ${e.id} (pid ${e.child.pid}) for ${now - e.running!.startedAt} ms`)
    const waiting = inFlight - running.length
    if (waiting > 0) busy.push(`${waiting} invocation${waiting === 1 ? '' : 's'} waiting for an environment (or its init)`)
    return busy
  }

  /** After a deploy changed the routing: retires what it routed away; resolves once the idle ones have exited. */
  async rerouted(): Promise<void> {
    const gone = this.retireUnrouted()
    // Invocations waiting for room may find it now.
    for (const wake of this.waiting.splice(0)) wake()
    await Promise.all(gone.map((e) => e.exited))
  }

  /** Starts environments of the routed version until `count` are alive; resolves once their init has run. */
  async provision(count: number): Promise<void> {
    this.assertRunning()
    if (this.node === undefined) await this.resolveNode()
    this.assertRunning()
    const wanted = Math.min(count, this.settings.maxConcurrency) - this.alive()
    const started: Environment[] = []
    for (let i = 0; i < wanted; i++) started.push(this.spawn(this.versions.primary, 'provisioned-concurrency'))
    const inits = await Promise.allSettled(started.map((e) => e.ready))
    const failed = inits.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      const e = failed.reason as FunctionErrorPayload
      throw new TroupeError('TROUPE_LAMBDA_INIT', `provisioning ${this.settings.name}: init failed: ${e.errorType}: ${e.errorMessage}`)
    }
  }

  /** A ready environment, marked busy; or the init error of the one started for this invocation (and its version). */
  async acquire(): Promise<Environment | InitFailure> {
    // Once, before the first environment: spawning stays synchronous after it, so the
    // concurrency check and the spawn below cannot be interleaved by another invocation.
    if (this.node === undefined) await this.resolveNode()
    for (;;) {
      this.assertRunning()
      // Routed afresh each time round: a wait for room may outlast a deploy.
      const code = this.versions.route()
      // The most recently used idle environment of that version: Lambda keeps reusing warm ones.
      const idle = [...this.pool].reverse().find((e) => !e.busy && !e.dead && !e.retiring && e.version === code.version)
      if (idle) {
        idle.busy = true
        try {
          await idle.ready
          if (!idle.dead) return idle
        } catch {
          // It failed its init while another invocation waited on it: start afresh.
        }
        idle.busy = false
        continue
      }
      if (this.alive() >= this.settings.maxConcurrency) {
        // At the limit: an idle environment of another version makes room (retired), else wait.
        const other = [...this.pool].find((e) => !e.busy && !e.dead && e.initialized && e.version !== code.version)
        if (other === undefined) {
          await new Promise<void>((resolve) => this.waiting.push(resolve))
          continue
        }
        this.retire(other)
      }
      const env = this.spawn(code)
      env.busy = true
      try {
        await env.ready
        if (!env.dead) return env
        continue
      } catch (error) {
        return Object.assign(new Error((error as FunctionErrorPayload).errorMessage), { error: error as FunctionErrorPayload, version: env.version })
      }
    }
  }

  release(env: Environment): void {
    env.busy = false
    this.pool.delete(env)
    if (!env.dead) this.pool.add(env) // to the end: the most recently used
    // A deploy routed its version away meanwhile: its invocation ran on the old code, and it ends now.
    if (env.retiring && !env.dead) this.retire(env)
    this.waiting.shift()?.()
  }

  /** Kills every environment; invocations still running end as crashes. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const wake of this.waiting.splice(0)) wake()
    const exits: Promise<void>[] = []
    for (const env of this.pool) {
      if (env.child.exitCode === null && env.child.signalCode === null) env.kill('stop')
      exits.push(env.exited)
    }
    await Promise.all(exits)
  }

  /**
   * Retires the environments of versions no longer routed: idle ones end now, busy ones (and
   * those in init) when that is over. Returns those ended now.
   */
  private retireUnrouted(): Environment[] {
    const gone: Environment[] = []
    for (const env of this.pool) {
      if (env.dead) continue
      if (this.versions.routes(env.version)) {
        // Routed again (a rollback) before it ended: it serves on.
        env.retiring = false
        continue
      }
      if (!env.busy && env.initialized) {
        this.retire(env)
        gone.push(env)
        continue
      }
      env.retiring = true
      // In init with no invocation waiting for it (provision): ended once the init is over.
      if (!env.busy) void env.ready.then(() => env.retiring && !env.busy && !env.dead && this.retire(env), () => {})
    }
    return gone
  }

  private retire(env: Environment): void {
    this.counts.retired++
    env.kill('retired')
  }

  private spawn(code: EnvironmentSpec, initialization: 'on-demand' | 'provisioned-concurrency' = 'on-demand'): Environment {
    // this.node is set: acquire and provision resolve it before any spawn.
    const env = spawnEnvironment(
      ++this.nextEnvironment,
      this.node!,
      initialization,
      code,
      (ms, ok) => {
        if (ok) this.counts.inits++
        else this.counts.initErrors++
        this.counts.initMs += ms
      },
      (e, code, signal) => this.exited(e, code, signal),
    )
    this.pool.add(env)
    return env
  }

  /** An environment's process ended: the invocation running in it ends as a crash. */
  private exited(env: Environment, code: number | null, signal: NodeJS.Signals | null): void {
    this.pool.delete(env)
    if (env.killedBy === undefined) this.counts.crashes++
    const running = env.running
    env.running = undefined
    if (running) {
      running.finish({
        kind: 'error',
        failure: 'crash',
        error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${running.requestId} Error: Runtime exited with error: ${exitText(code, signal)}` },
      })
    }
    this.waiting.shift()?.()
  }
}
