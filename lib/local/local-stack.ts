// The local AWS: real implementations of the DynamoDB and Kinesis APIs on 127.0.0.1, started by
// troupe itself (no Docker, no account), so the AWS mode runs and is tested on one machine.
//
// - dynalite and kinesalite are plain Node libraries that export an http.Server factory: they
//   run in this process, on a random free port, in memory or in LevelDB under a folder.
// - kinesis-local (kinesis-mock compiled to JS) starts its servers when its module loads, reads
//   its ports from environment variables, binds 0.0.0.0 and has no stop API, so it runs in a
//   child process (see kinesis-local-launcher.cjs) that is pinned to loopback and killed on stop.
//
// The emulators are optional peers of troupe (a user installs them as dev dependencies): they
// are loaded only when a local stack is started.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { ConfigError, TroupeError } from '../core/errors.js'

/** Loopback only: a local emulator is never reachable from another machine. */
const HOST = '127.0.0.1'
/** kinesis-local is a large Scala.js bundle; it takes about 2 s to listen on a small machine. */
const KINESIS_LOCAL_START_TIMEOUT_MS = 60_000
const CHILD_STOP_TIMEOUT_MS = 5_000

export type LocalKinesis = 'kinesalite' | 'kinesis-local'

export interface LocalStackOptions {
  /**
   * Keep the data in this folder (`dynalite/`, `kinesalite/` or `kinesis-local/` under it) so a
   * restarted stack finds its tables and streams. In memory when absent.
   */
  path?: string
  /**
   * Which Kinesis emulator to run. kinesalite is in-process and starts in milliseconds;
   * kinesis-local (kinesis-mock) is closer to AWS (StreamARN requests, ChildShards,
   * UpdateShardCount, large records) but runs in a child process and takes seconds to start.
   * @default 'kinesalite'
   */
  kinesis?: LocalKinesis
  /**
   * Milliseconds a new table or stream stays CREATING (AWS takes seconds). 0 makes tests fast.
   * @default 0
   */
  createDelayMs?: number
  /** Shards allowed across all streams (kinesalite's default is 10, like a new AWS account's). @default 100 */
  shardLimit?: number
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>` of the DynamoDB API. */
  readonly dynamodbEndpoint: string
  /** `http://127.0.0.1:<port>` of the Kinesis API. */
  readonly kinesisEndpoint: string
  readonly kinesis: LocalKinesis
  /** Closes both servers and every connection to them; persisted data stays in `path`. */
  stop(): Promise<void>
}

/** The factory both in-process emulators export: options in, an unstarted http.Server out. */
type ServerFactory = (options: Record<string, unknown>) => Server

/**
 * Starts DynamoDB (dynalite) and Kinesis (kinesalite or kinesis-local) on 127.0.0.1, each on a
 * free port. Always `stop()` it: tests that forget leave open handles and tap waits on them.
 *
 * @example
 * const stack = await startLocalStack()
 * const { dynamodb, kinesis } = clients(stack)
 * try { await createTable(dynamodb, 'troupe') } finally {
 *   dynamodb.destroy(); kinesis.destroy(); await stack.stop()
 * }
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const kinesis = options.kinesis ?? 'kinesalite'
  if (kinesis !== 'kinesalite' && kinesis !== 'kinesis-local') {
    throw new ConfigError(`LocalStackOptions.kinesis must be 'kinesalite' or 'kinesis-local', got ${JSON.stringify(kinesis)}`)
  }
  const createDelayMs = options.createDelayMs ?? 0
  if (!Number.isInteger(createDelayMs) || createDelayMs < 0) {
    throw new ConfigError(`LocalStackOptions.createDelayMs must be an integer from 0 up, got ${createDelayMs}`)
  }
  const shardLimit = options.shardLimit ?? 100
  if (!Number.isInteger(shardLimit) || shardLimit < 1) {
    throw new ConfigError(`LocalStackOptions.shardLimit must be an integer from 1 up, got ${shardLimit}`)
  }
  const folder = (name: string) => {
    if (options.path === undefined) return undefined
    const dir = join(options.path, name)
    mkdirSync(dir, { recursive: true })
    return dir
  }

  const stops: (() => Promise<void>)[] = []
  const stopAll = async () => {
    const errors: unknown[] = []
    for (const stop of stops.splice(0).reverse()) await stop().catch((e: unknown) => errors.push(e))
    if (errors.length) throw new AggregateError(errors, 'stopping the local AWS stack failed')
  }
  try {
    const dynalite = await loadFactory('dynalite')
    const dynamo = await listen(
      dynalite({ path: folder('dynalite'), createTableMs: createDelayMs, deleteTableMs: createDelayMs, updateTableMs: createDelayMs }),
    )
    stops.push(dynamo.stop)

    let kinesisEndpoint: string
    if (kinesis === 'kinesalite') {
      const kinesalite = await loadFactory('kinesalite')
      const k = await listen(
        kinesalite({
          path: folder('kinesalite'),
          createStreamMs: createDelayMs,
          deleteStreamMs: createDelayMs,
          updateStreamMs: createDelayMs,
          shardLimit,
        }),
      )
      stops.push(k.stop)
      kinesisEndpoint = k.endpoint
    } else {
      const k = await startKinesisLocal({ path: folder('kinesis-local'), createDelayMs, shardLimit })
      stops.push(k.stop)
      kinesisEndpoint = k.endpoint
    }

    let stopped: Promise<void> | undefined
    return {
      dynamodbEndpoint: dynamo.endpoint,
      kinesisEndpoint,
      kinesis,
      stop: () => (stopped ??= stopAll()),
    }
  } catch (e) {
    await stopAll().catch(() => {})
    throw e
  }
}

export interface LocalClientOptions {
  /** Attempts per request, retries included. Pinned so local and AWS runs retry alike. @default 3 */
  maxAttempts?: number
}

/**
 * DynamoDB and Kinesis clients for local endpoints: region us-east-1, fake credentials and the
 * HTTP/1.1 handler (the Kinesis client's default HTTP/2 handler fails against both emulators).
 * Call `destroy()` on each when done, or their keep-alive sockets hold the process open.
 */
export function clients(
  endpoints: { dynamodbEndpoint: string; kinesisEndpoint: string },
  options: LocalClientOptions = {},
): { dynamodb: DynamoDBClient; kinesis: KinesisClient } {
  const common = () => ({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  })
  return {
    dynamodb: new DynamoDBClient({ ...common(), endpoint: endpoints.dynamodbEndpoint }),
    kinesis: new KinesisClient({ ...common(), endpoint: endpoints.kinesisEndpoint }),
  }
}

async function loadFactory(name: 'dynalite' | 'kinesalite'): Promise<ServerFactory> {
  // A variable specifier keeps type-checkers and bundlers off these untyped dev dependencies.
  const specifier: string = name
  try {
    const mod = (await import(specifier)) as { default: ServerFactory }
    return mod.default
  } catch (e) {
    throw new TroupeError(
      'TROUPE_LOCAL_AWS_MISSING',
      `the local AWS stack needs the npm package "${name}"; install it with \`npm install --save-dev ${name}\``,
      { cause: e },
    )
  }
}

async function listen(server: Server): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://${HOST}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // The emulators' close() also closes their database; idle keep-alive sockets from SDK
        // clients would otherwise hold it open until they time out.
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

async function startKinesisLocal(options: {
  path: string | undefined
  createDelayMs: number
  shardLimit: number
}): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const launcher = fileURLToPath(new URL('./kinesis-local-launcher.cjs', import.meta.url))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CREATE_STREAM_DURATION: `${options.createDelayMs}ms`,
    DELETE_STREAM_DURATION: `${options.createDelayMs}ms`,
    UPDATE_SHARD_COUNT_DURATION: `${options.createDelayMs}ms`,
    SHARD_LIMIT: String(options.shardLimit),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
    AWS_REGION: 'us-east-1',
  }
  if (options.path !== undefined) {
    env.SHOULD_PERSIST_DATA = 'true'
    env.PERSIST_PATH = options.path
    env.PERSIST_INTERVAL = '1s'
  }
  const child = spawn(process.execPath, [launcher], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`it did not listen within ${KINESIS_LOCAL_START_TIMEOUT_MS} ms`), KINESIS_LOCAL_START_TIMEOUT_MS)
    function fail(why: string) {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new TroupeError('TROUPE_LOCAL_AWS_START', `kinesis-local failed to start: ${why}${stderr ? `\n${stderr}` : ''}`))
    }
    const onError = (e: Error) => fail(e.message)
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`it exited (${signal ?? code})`)
    child.once('error', onError)
    child.once('exit', onExit)
    child.on('message', (m: { ready?: number; error?: string }) => {
      if (m.error) return fail(m.error)
      if (typeof m.ready !== 'number') return
      clearTimeout(timer)
      child.off('error', onError)
      child.off('exit', onExit)
      resolve(m.ready)
    })
  })
  // Once started, the IPC channel only matters to the child (it exits when it closes).
  child.removeAllListeners('message')
  child.channel?.unref()
  return { endpoint: `http://${HOST}:${port}`, stop: () => stopChild(child, exited) }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
  child.stderr?.destroy()
  if (child.connected) child.disconnect()
}
