// A Lambda function run locally: a pool of execution environments, each a child process
// (runtime-child.mjs) that loads the bundled handler once and then serves invocations one at
// a time, as Lambda does (AWS-SEMANTICS.md §6):
//
// - an invocation takes a warm idle environment (the most recently used) or starts a new one,
//   up to `maxConcurrency`; past it, invocations wait their turn (AWS would throttle);
// - module init runs once per environment; a crash or a timeout ends the environment, and the
//   next invocation starts a fresh one, so init runs again;
// - the function timeout kills the process (`Sandbox.Timedout`), a crash answers
//   `Runtime.ExitError`, as the real service does;
// - requests and responses are capped at 6 MB (a larger request is refused before anything
//   runs; a larger response is `Function.ResponseSizeTooLarge`);
// - the environment gets the variables a Lambda gets, with fake credentials, the region, and
//   the endpoints of the local stack;
// - the environments run on the Node of the function's runtime (nodejs24.x: Node 24), not on
//   the Node running this process: runtimeNode finds that binary, or installs it once.
//
// For chaos tests, `environments()` lists the environments and `kill()` ends one with SIGKILL,
// as a crash would, at any moment (during init, idle, mid-invocation).
//
// Deploys, as a code update behind an alias does on AWS (the mapping invokes the alias):
// `deploy(bundle)` publishes the bundle as the next version ('2', '3', …; the first bundle is
// `options.version`, '$LATEST' unless given) and routes every new invocation to it; the
// environments of versions no longer routed are retired (not counted as crashes): an idle one at
// once, a busy one once its invocation ends on the old code (an invocation already handed to the
// old code finishes there). `deploy(bundle, { weight })` is a weighted alias (a canary,
// AdditionalVersionWeights): that share of new invocations, drawn per invocation, goes to the new
// version and the rest to the one routed before, each in environments of its own version, side
// by side. Deploying a bundle already published (the same file) routes to its version again
// instead of publishing it anew: give it another weight, promote it (no weight), or roll back.
// Each environment runs one version's code, with that version as AWS_LAMBDA_FUNCTION_VERSION,
// the context's functionVersion and the result's `executedVersion`; `environments()` names it.
// The concurrency limit counts every version's environments: at the limit, an idle one of the
// other version is retired to make room.
//
// This file is the pool (which environment takes an invocation, starting and losing them) and
// the invocations (limits, timeout, answer). One environment's process and its protocol with
// runtime-child.mjs are execution-environment.ts; the options and the variables an environment
// gets, function-options.ts; the versions and their routing, function-versions.ts; results,
// errors and the 6 MB limit, invoke-result.ts.
import { randomUUID } from 'node:crypto'
import { TroupeError } from '../core/errors.js'
import type { LambdaRuntime } from '../hosts/lambda/lambda-runtime.js'
import { exitText, spawnEnvironment, type Environment, type EnvironmentInfo, type EnvironmentSpec, type KillOptions, type Running } from './execution-environment.js'
import { functionSettings, type FunctionSettings, type LocalFunctionOptions } from './function-options.js'
import { FunctionVersions, type DeployOptions } from './function-versions.js'
import { errorResult, MAX_SYNC_PAYLOAD_BYTES, RequestTooLargeError, type FunctionErrorPayload, type FunctionFailure, type InvokeOptions, type InvokeResult } from './invoke-result.js'
import { NotIdleError } from './not-idle-error.js'
import { knownRuntimeNode, runtimeNode } from './runtime-node.js'

export type { EnvironmentInfo, KillOptions } from './execution-environment.js'
export type { LocalFunctionOptions, LogSource } from './function-options.js'
export type { DeployOptions } from './function-versions.js'
export { MAX_SYNC_PAYLOAD_BYTES, RequestTooLargeError } from './invoke-result.js'
export type { FunctionErrorPayload, FunctionFailure, InvokeOptions, InvokeResult } from './invoke-result.js'

export interface LocalFunctionStats {
  /** Module inits that completed (one per environment that started). */
  inits: number
  /** Inits that failed (the bundle threw at module scope, had no handler, or took too long). */
  initErrors: number
  invocations: number
  /** Invocations that ended with a function error (crashes and timeouts included). */
  errors: number
  /** Environments that exited on their own, or by `kill()`, after their init (during it, an init error). */
  crashes: number
  /** Invocations killed at the function timeout. */
  timeouts: number
  /** Environments alive now. */
  environments: number
  /** Invocations running or waiting for an environment now. */
  inFlight: number
  /** Total init time of the environments, in ms. */
  initMs: number
  /**
   * Environments ended, not crashed, because their version no longer takes invocations (a deploy),
   * or, idle at the concurrency limit, to make room for one of the other version.
   */
  retired: number
  /** The versions new invocations go to, with their shares: `{ '1': 1 }`, `{ '1': 0.75, '2': 0.25 }` during a canary. */
  routing: Record<string, number>
}


/**
 * A local Lambda function over a bundled handler. Call `stop()` when done: environments are
 * child processes.
 *
 * @example
 * const { outfile } = await bundleHandler({ entry: 'host.ts', outfile: '.troupe/host.mjs' })
 * const fn = new LocalFunction({ bundle: outfile, stack, table: 'troupe', stream: 'troupe' })
 * const answer = await fn.invoke({ troupe: 'tick' })
 */
export class LocalFunction {
  readonly name: string
  readonly arn: string
  readonly timeoutMs: number
  readonly runtime: LambdaRuntime
  private readonly settings: FunctionSettings
  private readonly versions: FunctionVersions
  private readonly pool = new Set<Environment>()
  private readonly waiting: (() => void)[] = []
  private readonly idleWaiters = new Set<() => void>()
  /** The runtime's node binary, once found (environments start only after that). */
  private node: string | undefined
  private finding: Promise<string> | undefined
  private nextEnvironment = 0
  private nextInvocation = 0
  private stopped = false
  private readonly counts = { inits: 0, initErrors: 0, invocations: 0, errors: 0, crashes: 0, timeouts: 0, inFlight: 0, initMs: 0, retired: 0 }

  constructor(options: LocalFunctionOptions) {
    this.settings = functionSettings(options)
    this.name = this.settings.name
    this.arn = this.settings.arn
    this.timeoutMs = this.settings.timeoutMs
    this.runtime = this.settings.runtime
    this.versions = new FunctionVersions(this.settings)
    // Known already (this process's own major, or found before): invocations spawn at once, as
    // they always did; else the first one waits for runtimeNode.
    this.node = knownRuntimeNode(this.runtime)
  }

  /**
   * The path of the node binary the environments run on, found (or installed, the first time on
   * this machine) by `runtimeNode`. The first invocation or `provision` calls it; call it sooner
   * to fail early, or to keep an install out of the first invocation's time. A failure is kept:
   * invocations then reject with it (TROUPE_LAMBDA_NODE) rather than retry an install each time.
   */
  resolveNode(): Promise<string> {
    this.finding ??= runtimeNode(this.runtime).then((node) => (this.node = node))
    return this.finding
  }

  stats(): LocalFunctionStats {
    return { ...this.counts, environments: [...this.pool].filter((e) => !e.dead).length, routing: this.versions.routing() }
  }

  /** The version that takes new invocations (all of them, but a canary's share). */
  get version(): string {
    return this.versions.primary.version
  }

  /**
   * Deploys `bundle`: publishes it as a new version (or finds the version that file was published
   * as) and routes new invocations to it, as updating an alias does. Without a weight (or 1) it
   * takes every new invocation: idle environments of other versions end at once, busy ones once
   * their invocation ends (on the old code); none counts as a crash. With `weight` < 1, that
   * share of new invocations goes to it and the rest to the version routed before (a canary:
   * one extra version at a time, as alias routing allows). Routes at once; resolves with the
   * version's name once the idle environments retired have exited.
   *
   * @example
   * await fn.deploy(v2, { weight: 0.25 }) // '2': a quarter of the invocations run v2
   * await fn.deploy(v2)                   // '2' takes them all; v1 environments retire
   */
  async deploy(bundle: string, options: DeployOptions = {}): Promise<string> {
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    const code = this.versions.deploy(bundle, options)
    const gone = this.retireUnrouted()
    // Invocations waiting for room may find it now.
    for (const wake of this.waiting.splice(0)) wake()
    await Promise.all(gone.map((e) => e.exited))
    return code.version
  }

  /**
   * Resolves once no invocation runs or waits. With `timeoutMs`, rejects after it with a
   * NotIdleError saying which invocations still ran.
   */
  idle(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.counts.inFlight === 0) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const { timeoutMs } = options
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.idleWaiters.delete(done)
              reject(new NotIdleError(`function ${this.name}`, timeoutMs, this.busy()))
            }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        resolve()
      }
      this.idleWaiters.add(done)
    })
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

  /**
   * Ends one environment with SIGKILL, as a crash would: an invocation running in it ends as
   * `Runtime.ExitError` (`failure: 'crash'`; a mapping retries its batch), a kill during init
   * fails the invocation waiting for it (`failure: 'init'`), and the next invocation starts a
   * fresh environment. `target` is an environment's id or `{ pid }`. Resolves once the process
   * is gone: true when this call ended it; false when it was gone or going already, or (with
   * `when: 'busy'`) ended some other way before an invocation came.
   *
   * @example
   * const [env] = fn.environments()
   * const killed = fn.kill(env.id, { when: 'busy' }) // its next batch crashes mid-invocation
   * await esm.start()
   * await killed // true
   */
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

  /** Invokes the function with `event` (made JSON, as the Invoke API carries it). */
  invoke(event: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const payload = JSON.stringify(event ?? null)
    return this.invokeRaw(payload, options)
  }

  /**
   * Invokes the function with a JSON payload as given. Rejects with RequestTooLargeError over
   * 6 MB (nothing runs); every other failure is a result with `ok: false`.
   */
  async invokeRaw(payload: string, options: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    const bytes = Buffer.byteLength(payload)
    if (bytes > MAX_SYNC_PAYLOAD_BYTES) throw new RequestTooLargeError(this.name, bytes)
    try {
      JSON.parse(payload)
    } catch (error) {
      throw new TroupeError('TROUPE_LAMBDA_BAD_REQUEST', `the payload to ${this.name} is not JSON: ${(error as Error).message}`)
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    const requestId = randomUUID()
    this.counts.invocations++
    this.counts.inFlight++
    const started = performance.now()
    try {
      const env = await this.acquire()
      if (env instanceof Error) return this.failed(requestId, 'init', env.error, started, env.version)
      try {
        return await this.run(env, payload, requestId, timeoutMs, started)
      } finally {
        this.release(env)
      }
    } finally {
      this.counts.inFlight--
      if (this.counts.inFlight === 0) {
        for (const done of this.idleWaiters) done()
        this.idleWaiters.clear()
      }
    }
  }

  /**
   * Provisioned concurrency: starts environments (of the routed version) until `count` are alive,
   * and resolves once their init has run (they report AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency).
   * Invocations then find them warm. Environments lost later (crash, timeout) are not replaced.
   */
  async provision(count: number): Promise<void> {
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    if (this.node === undefined) await this.resolveNode()
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    const alive = [...this.pool].filter((e) => !e.dead).length
    const wanted = Math.min(count, this.settings.maxConcurrency) - alive
    const started: Environment[] = []
    for (let i = 0; i < wanted; i++) started.push(this.spawn(this.versions.primary, 'provisioned-concurrency'))
    const inits = await Promise.allSettled(started.map((e) => e.ready))
    const failed = inits.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      const e = failed.reason as FunctionErrorPayload
      throw new TroupeError('TROUPE_LAMBDA_INIT', `provisioning ${this.name}: init failed: ${e.errorType}: ${e.errorMessage}`)
    }
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

  private run(env: Environment, payload: string, requestId: string, timeoutMs: number, started: number): Promise<InvokeResult> {
    return new Promise<InvokeResult>((resolve) => {
      const id = ++this.nextInvocation
      const deadline = Date.now() + timeoutMs
      const timer = setTimeout(() => {
        if (env.running?.id !== id) return
        this.counts.timeouts++
        env.running = undefined
        env.kill('timeout')
        finish({
          kind: 'error',
          failure: 'timeout',
          error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` },
        })
      }, timeoutMs)
      const finish: Running['finish'] = (answer) => {
        clearTimeout(timer)
        if (answer.kind === 'error') return resolve(this.failed(requestId, answer.failure, answer.error, started, env.version))
        const size = Buffer.byteLength(answer.payload)
        if (size > MAX_SYNC_PAYLOAD_BYTES) {
          return resolve(
            this.failed(requestId, 'response-too-large', { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).` }, started, env.version),
          )
        }
        resolve({ ok: true, requestId, payload: answer.payload, result: JSON.parse(answer.payload) as unknown, durationMs: performance.now() - started, executedVersion: env.version })
      }
      env.invoke({ id, requestId, startedAt: Date.now(), finish }, { payload, deadline, functionName: this.name, invokedFunctionArn: this.arn, memoryLimitInMB: this.settings.memoryMb })
    })
  }

  /** What keeps the function from being idle, for a NotIdleError. */
  private busy(): string[] {
    const now = Date.now()
    const running = [...this.pool].filter((e) => e.running)
    const busy = running.map((e) => `an invocation running in environment ${e.id} (pid ${e.child.pid}) for ${now - e.running!.startedAt} ms`)
    const waiting = this.counts.inFlight - running.length
    if (waiting > 0) busy.push(`${waiting} invocation${waiting === 1 ? '' : 's'} waiting for an environment (or its init)`)
    return busy
  }

  private failed(requestId: string, failure: FunctionFailure, error: FunctionErrorPayload, started: number, version: string): InvokeResult {
    this.counts.errors++
    return errorResult(requestId, failure, error, started, version)
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

  /** A ready environment, marked busy; or the init error of the one started for this invocation (and its version). */
  private async acquire(): Promise<Environment | (Error & { error: FunctionErrorPayload; version: string })> {
    // Once, before the first environment: spawning stays synchronous after it, so the
    // concurrency check and the spawn below cannot be interleaved by another invocation.
    if (this.node === undefined) await this.resolveNode()
    for (;;) {
      if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
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
      if ([...this.pool].filter((e) => !e.dead).length >= this.settings.maxConcurrency) {
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

  private release(env: Environment): void {
    env.busy = false
    this.pool.delete(env)
    if (!env.dead) this.pool.add(env) // to the end: the most recently used
    // A deploy routed its version away meanwhile: its invocation ran on the old code, and it ends now.
    if (env.retiring && !env.dead) this.retire(env)
    this.waiting.shift()?.()
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
