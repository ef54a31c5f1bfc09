// One execution environment of a local Lambda function: a child process running
// runtime-child.mjs, which loads the bundled handler once (module init) and then serves
// invocations one at a time, and the protocol between them over IPC: the child answers
// `ready` or `init-error` once, then `result` or `error` per `invoke`. A crash or a kill ends
// it; whoever runs the pool learns of the exit and answers the invocation running in it.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { FunctionErrorPayload, FunctionFailure } from './invoke-result.js'

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
  /** The function version whose code it runs (`$LATEST` until a deploy publishes others). */
  version: string
  /** A deploy routed its version away: it takes no new invocation, and ends once the running one (or its init) does. */
  retiring?: true
}

export interface KillOptions {
  /**
   * `now`: whatever the environment is doing. `busy`: once an invocation runs in it — at once
   * if one does, else as soon as the next one is handed to it.
   * @default 'now'
   */
  when?: 'now' | 'busy'
}

/** The runtime's file (a function, so a bundle that never starts a local function leaves this module out). */
export const childPath = () => fileURLToPath(new URL('./runtime-child.mjs', import.meta.url))

/** What runtime-child.mjs sends: once `ready` or `init-error`, then an answer per `invoke`. */
type ChildMessage =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: FunctionErrorPayload; initMs: number }
  | { type: 'result'; id: number; payload: string }
  | { type: 'error'; id: number; error: FunctionErrorPayload }

/** The invocation running in an environment, and where its answer goes. */
export interface Running {
  id: number
  requestId: string
  startedAt: number
  finish: (answer: { kind: 'result'; payload: string } | { kind: 'error'; error: FunctionErrorPayload; failure: FunctionFailure }) => void
}

/** What every environment of a function starts with. */
export interface EnvironmentSpec {
  /** The bundle, resolved. */
  bundle: string
  /** The function version this code is published as. */
  version: string
  handlerExport: string
  memoryMb: number
  /** The variables of the environment (a Lambda's; the log stream and initialization type are added per environment). */
  env: Record<string, string>
  initTimeoutMs: number
  onLog: (line: string, source: { environment: number; stream: 'stdout' | 'stderr'; version: string }) => void
}

/** What an invocation tells the handler, besides its request id. */
export interface Invocation {
  payload: string
  /** Epoch ms: the context's getRemainingTimeInMillis counts down to it. */
  deadline: number
  functionName: string
  invokedFunctionArn: string
  memoryLimitInMB: number
}

export class Environment {
  readonly ready: Promise<void>
  readonly startedAt = new Date()
  busy = false
  /** Exited, or being killed: takes no more invocations. */
  dead = false
  /** Set when the process ends for a known reason (timeout, stop, failed init, retired by a deploy): its exit is no crash. */
  killedBy: 'timeout' | 'stop' | 'init' | 'retired' | undefined
  /** Its version no longer takes invocations: ended once its running invocation (or its init) is over. */
  retiring = false
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
    /** The function version whose code it runs. */
    readonly version: string,
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
  kill(reason: 'timeout' | 'stop' | 'retired'): void {
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

  /** Hands an invocation to the process; its answer (or its end) comes to `running.finish`. */
  invoke(running: Running, invocation: Invocation): void {
    const { id, requestId } = running
    const { payload, deadline, functionName, invokedFunctionArn, memoryLimitInMB } = invocation
    this.running = running
    this.invocations++
    this.child.send(
      {
        type: 'invoke',
        id,
        payload,
        deadline,
        requestId,
        functionName,
        functionVersion: this.version,
        invokedFunctionArn,
        memoryLimitInMB,
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: this.logStreamName,
        traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`,
      },
      // A failed send means the environment died before it read the invocation: its exit reports the crash.
      () => {},
    )
    // kill(…, { when: 'busy' }): the invocation is handed over, and the process dies under it.
    if (this.doomed) this.crash()
  }
}

/** Starts environment `id` on the runtime's `node`; `onInit` is told how its init went, `onExit` of its end. */
export function spawnEnvironment(
  id: number,
  node: string,
  initialization: 'on-demand' | 'provisioned-concurrency',
  spec: EnvironmentSpec,
  onInit: (ms: number, ok: boolean) => void,
  onExit: (env: Environment, code: number | null, signal: NodeJS.Signals | null) => void,
): Environment {
  const now = new Date()
  const logStreamName = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}/[${spec.version}]${randomBytes(16).toString('hex')}`
  const heap = Math.floor(spec.memoryMb * 0.9)
  const child = spawn(node, [`--max-old-space-size=${heap}`, childPath(), spec.bundle, spec.handlerExport], {
    cwd: dirname(spec.bundle),
    env: { ...spec.env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName, AWS_LAMBDA_INITIALIZATION_TYPE: initialization },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // V8's serializer: the child's Node may not be this process's, and the format is the same
    // (version 15) from Node 20 to 24. Were it ever not, 'json' would do: messages are plain.
    serialization: 'advanced',
  })
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream]! }).on('line', (line) => {
      try {
        spec.onLog(line, { environment: id, stream, version: spec.version })
      } catch {
        // A log sink that throws must not take the environment down.
      }
    })
  }
  return new Environment(id, child, logStreamName, spec.version, spec.initTimeoutMs, onInit, onExit)
}

export function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'signal: killed'
  if (signal) return `signal: ${signal.replace(/^SIG/, '').toLowerCase()}`
  return `exit status ${code ?? 0}`
}
