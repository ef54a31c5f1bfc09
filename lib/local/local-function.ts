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
// This file is the invocations (limits, timeout, answer), deploys and stats. The pool (which
// environment takes an invocation, starting and losing them) is environment-pool.ts; one
// environment's process and its protocol with runtime-child.mjs, execution-environment.ts; the
// options and the variables an environment gets, function-options.ts; the versions and their
// routing, function-versions.ts; results, errors and the 6 MB limit, invoke-result.ts.
import { randomUUID } from 'node:crypto'
import { TroupeError } from '../core/errors.js'
import type { LambdaRuntime } from '../platform/lambda-runtime.js'
import { EnvironmentPool } from './environment-pool.js'
import type { Environment, EnvironmentInfo, KillOptions, Running } from './execution-environment.js'
import { functionSettings, type FunctionSettings, type LocalFunctionOptions } from './function-options.js'
import { FunctionVersions, type DeployOptions } from './function-versions.js'
import { errorResult, MAX_SYNC_PAYLOAD_BYTES, RequestTooLargeError, type FunctionErrorPayload, type FunctionFailure, type InvokeOptions, type InvokeResult } from './invoke-result.js'
import { NotIdleError } from './not-idle-error.js'

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
  private readonly pool: EnvironmentPool
  private readonly idleWaiters = new Set<() => void>()
  private nextInvocation = 0
  private readonly counts = { inits: 0, initErrors: 0, invocations: 0, errors: 0, crashes: 0, timeouts: 0, inFlight: 0, initMs: 0, retired: 0 }

  constructor(options: LocalFunctionOptions) {
    this.settings = functionSettings(options)
    this.name = this.settings.name
    this.arn = this.settings.arn
    this.timeoutMs = this.settings.timeoutMs
    this.runtime = this.settings.runtime
    this.versions = new FunctionVersions(this.settings)
    this.pool = new EnvironmentPool(this.settings, this.versions, this.counts)
  }

  /**
   * The path of the node binary the environments run on, found (or installed, the first time on
   * this machine) by `runtimeNode`. The first invocation or `provision` calls it; call it sooner
   * to fail early, or to keep an install out of the first invocation's time. A failure is kept:
   * invocations then reject with it (TROUPE_LAMBDA_NODE) rather than retry an install each time.
   */
  resolveNode(): Promise<string> {
    return this.pool.resolveNode()
  }

  stats(): LocalFunctionStats {
    return { ...this.counts, environments: this.pool.alive(), routing: this.versions.routing() }
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
    this.pool.assertRunning()
    const code = this.versions.deploy(bundle, options)
    await this.pool.rerouted()
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
              reject(new NotIdleError(`function ${this.name}`, timeoutMs, this.pool.busy(this.counts.inFlight)))
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
    return this.pool.environments()
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
  kill(target: number | { pid: number }, options: KillOptions = {}): Promise<boolean> {
    return this.pool.kill(target, options)
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
    this.pool.assertRunning()
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
      const env = await this.pool.acquire()
      if (env instanceof Error) return this.failed(requestId, 'init', env.error, started, env.version)
      try {
        return await this.run(env, payload, requestId, timeoutMs, started)
      } finally {
        this.pool.release(env)
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
  provision(count: number): Promise<void> {
    return this.pool.provision(count)
  }

  /** Kills every environment; invocations still running end as crashes. */
  stop(): Promise<void> {
    return this.pool.stop()
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

  private failed(requestId: string, failure: FunctionFailure, error: FunctionErrorPayload, started: number, version: string): InvokeResult {
    this.counts.errors++
    return errorResult(requestId, failure, error, started, version)
  }
}
