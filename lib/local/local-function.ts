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
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { basename, dirname, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ConfigError, TroupeError } from '../core/errors.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES, nodeMajor, type LambdaRuntime } from '../hosts/lambda/lambda-runtime.js'
import { NotIdleError } from './not-idle-error.js'
import { knownRuntimeNode, runtimeNode } from './runtime-node.js'

/** Synchronous invocation payload limit, each way: 6 MB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024

/** The error body Lambda returns with `X-Amz-Function-Error: Unhandled`. */
export interface FunctionErrorPayload {
  errorType: string
  errorMessage: string
  stackTrace?: string[]
}

/** Why an invocation failed. */
export type FunctionFailure = 'error' | 'crash' | 'timeout' | 'init' | 'response-too-large'

export type InvokeResult =
  | {
      ok: true
      requestId: string
      /** The handler's result as JSON text (`null` when it returned nothing). */
      payload: string
      /** `payload`, parsed. */
      result: unknown
      durationMs: number
    }
  | {
      ok: false
      requestId: string
      functionError: 'Unhandled'
      failure: FunctionFailure
      error: FunctionErrorPayload
      /** `error` as the JSON text Lambda answers with. */
      payload: string
      durationMs: number
    }

export interface LocalFunctionOptions {
  /** The bundled handler (what `bundleHandler` wrote). */
  bundle: string
  /** The export that is the handler. @default 'handler' */
  handlerExport?: string
  /** @default 'troupe-host' */
  name?: string
  /**
   * The Lambda runtime: the environments run on its Node (found or installed by `runtimeNode`:
   * TROUPE_LAMBDA_NODE_24 names a binary), and AWS_EXECUTION_ENV names it. Bundle for the same
   * runtime. @default 'nodejs24.x'
   */
  runtime?: LambdaRuntime
  /** The function timeout, for invocations that give none. Lambda's default is 3 s. @default 30_000 */
  timeoutMs?: number
  /** Reported to the handler, and bounds the V8 heap as Lambda's runtime does. @default 512 */
  memoryMb?: number
  /** @default 'us-east-1' */
  region?: string
  /** The local stack: its endpoints become AWS_ENDPOINT_URL_KINESIS and AWS_ENDPOINT_URL_DYNAMODB. */
  stack?: { kinesisEndpoint: string; dynamodbEndpoint: string }
  /** TROUPE_TABLE */
  table?: string
  /** TROUPE_STREAM */
  stream?: string
  /** More environment variables (they may override the ones above, not the reserved ones). */
  environment?: Record<string, string>
  /** Environments alive at once. @default 10 */
  maxConcurrency?: number
  /** How long module init may take. Lambda allows 10 s on demand. @default 10_000 */
  initTimeoutMs?: number
  /**
   * Where the environments' stdout and stderr lines go (Lambda sends them to CloudWatch Logs).
   * @default written to this process's stderr, prefixed with the function and environment
   */
  onLog?: (line: string, source: { environment: number; stream: 'stdout' | 'stderr' }) => void
}

export interface InvokeOptions {
  /** This invocation's timeout. @default the function's `timeoutMs` */
  timeoutMs?: number
}

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
}

/** One execution environment, as `environments()` lists it. */
export interface EnvironmentInfo {
  /** 1, 2, … in the order started; the `environment` of `onLog`. */
  id: number
  pid: number
  /** `init` while the bundle's module scope runs; `busy` while an invocation runs. */
  state: 'init' | 'idle' | 'busy'
  /** The running invocation's request id (`busy` only): `BatchReport.requestId` for a mapping's batch. */
  requestId?: string
  startedAt: Date
  /** Invocations it has taken, the running one included. */
  invocations: number
}

export interface KillOptions {
  /**
   * `now`: whatever the environment is doing. `busy`: once an invocation runs in it — at once
   * if one does, else as soon as the next one is handed to it.
   * @default 'now'
   */
  when?: 'now' | 'busy'
}

/** A request over the 6 MB synchronous payload limit; nothing ran. */
export class RequestTooLargeError extends TroupeError {
  constructor(
    readonly functionName: string,
    readonly bytes: number,
  ) {
    super('TROUPE_LAMBDA_REQUEST_TOO_LARGE', `the request to ${functionName} is ${bytes} bytes; a synchronous invocation may be ${MAX_SYNC_PAYLOAD_BYTES}`)
  }
}

/** The runtime's file (a function, so a bundle that never starts a local function leaves this module out). */
const childPath = () => fileURLToPath(new URL('./runtime-child.mjs', import.meta.url))

type ChildMessage =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: FunctionErrorPayload; initMs: number }
  | { type: 'result'; id: number; payload: string }
  | { type: 'error'; id: number; error: FunctionErrorPayload }

interface Running {
  id: number
  requestId: string
  startedAt: number
  finish: (answer: { kind: 'result'; payload: string } | { kind: 'error'; error: FunctionErrorPayload; failure: FunctionFailure }) => void
}

class Environment {
  readonly ready: Promise<void>
  readonly startedAt = new Date()
  busy = false
  /** Exited, or being killed: takes no more invocations. */
  dead = false
  /** Set when the process ends for a known reason (timeout, stop, failed init): its exit is no crash. */
  killedBy: 'timeout' | 'stop' | 'init' | undefined
  running: Running | undefined
  initialized = false
  invocations = 0
  /** `kill(…, { when: 'busy' })` waits for an invocation: crash as it is handed over. */
  doomed = false
  /** Ended by `kill()`. */
  crashed = false
  readonly exited: Promise<void>
  private settled = false

  constructor(
    readonly id: number,
    readonly child: ChildProcess,
    readonly logStreamName: string,
    initTimeoutMs: number,
    onInit: (ms: number, ok: boolean) => void,
    onExit: (env: Environment, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.ready = new Promise<void>((resolve, reject) => {
      const fail = (error: FunctionErrorPayload, ms: number) => {
        clearTimeout(timer)
        this.settled = true
        this.killedBy ??= 'init'
        this.dead = true
        onInit(ms, false)
        reject(error)
      }
      const timer = setTimeout(() => {
        fail({ errorType: 'Sandbox.Timedout', errorMessage: `Init phase timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`, stackTrace: [] }, initTimeoutMs)
        child.kill('SIGKILL')
      }, initTimeoutMs)
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer)
          this.settled = true
          this.initialized = true
          onInit(m.initMs, true)
          resolve()
        } else if (m.type === 'init-error') {
          if (!this.settled) fail(m.error, m.initMs)
        } else if ((m.type === 'result' || m.type === 'error') && this.running?.id === m.id) {
          const running = this.running
          this.running = undefined
          running.finish(m.type === 'result' ? { kind: 'result', payload: m.payload } : { kind: 'error', error: m.error, failure: 'error' })
        }
      })
      child.on('error', (error) => {
        // Spawning failed, or a message could not be sent (the exit that follows reports it).
        if (!this.settled) fail({ errorType: 'Runtime.StartError', errorMessage: `the environment could not start: ${error.message}`, stackTrace: [] }, 0)
      })
      child.once('exit', (code, signal) => {
        if (!this.settled) fail({ errorType: 'Runtime.ExitError', errorMessage: `Error: Runtime exited during init with error: ${exitText(code, signal)}`, stackTrace: [] }, 0)
        this.dead = true
        onExit(this, code, signal)
      })
    })
    // Awaited by whoever invokes; a failed init must not be an unhandled rejection meanwhile.
    this.ready.catch(() => {})
  }

  /** Ends the process for a known reason. */
  kill(reason: 'timeout' | 'stop'): void {
    this.killedBy ??= reason
    this.dead = true
    this.child.kill('SIGKILL')
  }

  /** Ends the process for no reason it knows of: its exit is a crash (an init error during init). */
  crash(): void {
    this.crashed = true
    this.dead = true
    this.child.kill('SIGKILL')
  }
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
  private readonly bundle: string
  private readonly handlerExport: string
  private readonly memoryMb: number
  private readonly region: string
  private readonly maxConcurrency: number
  private readonly initTimeoutMs: number
  private readonly env: Record<string, string>
  private readonly onLog: NonNullable<LocalFunctionOptions['onLog']>
  private readonly pool = new Set<Environment>()
  private readonly waiting: (() => void)[] = []
  private readonly idleWaiters = new Set<() => void>()
  /** The runtime's node binary, once found (environments start only after that). */
  private node: string | undefined
  private finding: Promise<string> | undefined
  private nextEnvironment = 0
  private nextInvocation = 0
  private stopped = false
  private readonly counts = { inits: 0, initErrors: 0, invocations: 0, errors: 0, crashes: 0, timeouts: 0, inFlight: 0, initMs: 0 }

  constructor(options: LocalFunctionOptions) {
    this.bundle = resolve(options.bundle)
    this.handlerExport = options.handlerExport ?? 'handler'
    this.name = options.name ?? 'troupe-host'
    this.region = options.region ?? 'us-east-1'
    this.arn = `arn:aws:lambda:${this.region}:000000000000:function:${this.name}`
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME
    if (!isLambdaRuntime(this.runtime)) throw new ConfigError(`LocalFunction runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(this.runtime)}`)
    // Known already (this process's own major, or found before): invocations spawn at once, as
    // they always did; else the first one waits for runtimeNode.
    this.node = knownRuntimeNode(this.runtime)
    this.memoryMb = options.memoryMb ?? 512
    this.maxConcurrency = options.maxConcurrency ?? 10
    this.initTimeoutMs = options.initTimeoutMs ?? 10_000
    for (const [what, value, min] of [
      ['timeoutMs', this.timeoutMs, 1],
      ['memoryMb', this.memoryMb, 128],
      ['maxConcurrency', this.maxConcurrency, 1],
      ['initTimeoutMs', this.initTimeoutMs, 1],
    ] as const) {
      if (!Number.isFinite(value) || value < min) throw new ConfigError(`LocalFunction ${what} must be a number from ${min} up, got ${value}`)
    }
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.name)) throw new ConfigError(`LocalFunction name must be 1-64 letters, digits, - or _, got ${JSON.stringify(this.name)}`)
    this.onLog = options.onLog ?? ((line, source) => process.stderr.write(`[${this.name}#${source.environment}] ${line}\n`))
    const handlerFile = basename(this.bundle).replace(/\.(m|c)?js$/, '')
    this.env = {
      // What every Lambda environment has (AWS-SEMANTICS.md §6), credentials fake.
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      // What Lambda sets for the runtime; the environments run on its Node, so it is true here too.
      AWS_EXECUTION_ENV: `AWS_Lambda_${this.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: this.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memoryMb),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      // Invocations come over IPC, not the Runtime API: nothing listens here.
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      _HANDLER: `${handlerFile}.${this.handlerExport}`,
      LAMBDA_TASK_ROOT: dirname(this.bundle),
      LAMBDA_RUNTIME_DIR: dirname(childPath()),
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      // Lambda's module paths: none exist here, so only what is in the bundle loads.
      NODE_PATH: `/opt/nodejs/node${nodeMajor(this.runtime)}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      ...(options.stack ? { AWS_ENDPOINT_URL_KINESIS: options.stack.kinesisEndpoint, AWS_ENDPOINT_URL_DYNAMODB: options.stack.dynamodbEndpoint } : {}),
      ...(options.table ? { TROUPE_TABLE: options.table } : {}),
      ...(options.stream ? { TROUPE_STREAM: options.stream } : {}),
      ...options.environment,
    }
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
    return { ...this.counts, environments: [...this.pool].filter((e) => !e.dead).length }
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
      if (env instanceof Error) return this.failed(requestId, 'init', env.error, started)
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
   * Provisioned concurrency: starts environments until `count` are alive, and resolves once
   * their init has run (they report AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency).
   * Invocations then find them warm. Environments lost later (crash, timeout) are not replaced.
   */
  async provision(count: number): Promise<void> {
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    if (this.node === undefined) await this.resolveNode()
    if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
    const alive = [...this.pool].filter((e) => !e.dead).length
    const wanted = Math.min(count, this.maxConcurrency) - alive
    const started: Environment[] = []
    for (let i = 0; i < wanted; i++) started.push(this.spawn('provisioned-concurrency'))
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
        if (answer.kind === 'error') return resolve(this.failed(requestId, answer.failure, answer.error, started))
        const size = Buffer.byteLength(answer.payload)
        if (size > MAX_SYNC_PAYLOAD_BYTES) {
          return resolve(
            this.failed(requestId, 'response-too-large', { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).` }, started),
          )
        }
        resolve({ ok: true, requestId, payload: answer.payload, result: JSON.parse(answer.payload) as unknown, durationMs: performance.now() - started })
      }
      env.running = { id, requestId, startedAt: Date.now(), finish }
      env.invocations++
      env.child.send(
        {
          type: 'invoke',
          id,
          payload,
          deadline,
          requestId,
          functionName: this.name,
          functionVersion: '$LATEST',
          invokedFunctionArn: this.arn,
          memoryLimitInMB: this.memoryMb,
          logGroupName: `/aws/lambda/${this.name}`,
          logStreamName: env.logStreamName,
          traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`,
        },
        // A failed send means the environment died before it read the invocation: its exit reports the crash.
        () => {},
      )
      // kill(…, { when: 'busy' }): the invocation is handed over, and the process dies under it.
      if (env.doomed) env.crash()
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

  private failed(requestId: string, failure: FunctionFailure, error: FunctionErrorPayload, started: number): InvokeResult {
    this.counts.errors++
    const body: FunctionErrorPayload = { errorType: error.errorType, errorMessage: error.errorMessage, ...(error.stackTrace ? { stackTrace: error.stackTrace } : {}) }
    return { ok: false, requestId, functionError: 'Unhandled', failure, error: body, payload: JSON.stringify(body), durationMs: performance.now() - started }
  }

  /** A ready environment, marked busy; or the init error of the one started for this invocation. */
  private async acquire(): Promise<Environment | (Error & { error: FunctionErrorPayload })> {
    // Once, before the first environment: spawning stays synchronous after it, so the
    // concurrency check and the spawn below cannot be interleaved by another invocation.
    if (this.node === undefined) await this.resolveNode()
    for (;;) {
      if (this.stopped) throw new TroupeError('TROUPE_LAMBDA_STOPPED', `the local function ${this.name} is stopped`)
      // The most recently used idle environment: Lambda keeps reusing warm ones.
      const idle = [...this.pool].reverse().find((e) => !e.busy && !e.dead)
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
      if ([...this.pool].filter((e) => !e.dead).length < this.maxConcurrency) {
        const env = this.spawn()
        env.busy = true
        try {
          await env.ready
          if (!env.dead) return env
          continue
        } catch (error) {
          return Object.assign(new Error((error as FunctionErrorPayload).errorMessage), { error: error as FunctionErrorPayload })
        }
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }

  private release(env: Environment): void {
    env.busy = false
    this.pool.delete(env)
    if (!env.dead) this.pool.add(env) // to the end: the most recently used
    this.waiting.shift()?.()
  }

  private spawn(initialization: 'on-demand' | 'provisioned-concurrency' = 'on-demand'): Environment {
    const id = ++this.nextEnvironment
    const now = new Date()
    const logStreamName = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}/[$LATEST]${randomBytes(16).toString('hex')}`
    const heap = Math.floor(this.memoryMb * 0.9)
    // this.node is set: acquire and provision resolve it before any spawn.
    const child = spawn(this.node!, [`--max-old-space-size=${heap}`, childPath(), this.bundle, this.handlerExport], {
      cwd: dirname(this.bundle),
      env: { ...this.env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName, AWS_LAMBDA_INITIALIZATION_TYPE: initialization },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // V8's serializer: the child's Node may not be this process's, and the format is the same
      // (version 15) from Node 20 to 24. Were it ever not, 'json' would do: messages are plain.
      serialization: 'advanced',
    })
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]! }).on('line', (line) => {
        try {
          this.onLog(line, { environment: id, stream })
        } catch {
          // A log sink that throws must not take the environment down.
        }
      })
    }
    const env = new Environment(
      id,
      child,
      logStreamName,
      this.initTimeoutMs,
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

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'signal: killed'
  if (signal) return `signal: ${signal.replace(/^SIG/, '').toLowerCase()}`
  return `exit status ${code ?? 0}`
}
