// What `troupe dev` does once its flags are read (see dev.ts): start the local stack, make the
// table and streams, run the system and the app, print where everything is, stop in order.
import { rmSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startedOf, type AppStop } from '../app/define-app.js'
import { AwsSystem } from '../aws/aws-system.js'
import { ensureResources } from '../aws/resources.js'
import { ConfigError, TroupeError } from '../core/errors.js'
import { MissingPeerError } from '../core/optional-peer.js'
import type { SystemSnapshot } from '../core/inspection.js'
import { serveInspection } from '../inspect/inspection-server.js'
import type { Inspector } from '../inspect/inspector.js'
import { SystemInspector } from '../inspect/system-inspector.js'
import { TableInspector } from '../aws/table-inspector.js'
import { ProcessHostInspector } from './dev-inspector.js'
import { TrafficLog } from '../inspect/traffic-log.js'
import { LocalMetrics } from '../local/local-metrics.js'
import { GaugeWindow, withGauges } from '../metrics/gauge-window.js'
import { clients, startLocalStack, type LocalStack } from '../local/local-stack.js'
import { STREAM_NAME } from '../routing/kinesis-limits.js'
import { Router } from '../routing/router.js'
import { CliError, messageOf } from './cli-error.js'
import { DEV_FILE, writeDevFile } from './dev-file.js'
import { readyInfo, stoppedInfo } from './dev-info.js'
import { startDevLambdaHost, type DevLambdaHost, type DevLambdaStats } from './dev-lambda.js'
import { takeLock } from './dev-lock.js'
import { formatReady, formatStopped } from './dev-report.js'
import { Signals } from './dev-signals.js'
import { describeStreams, releaseLeftLeases } from './dev-streams.js'
import type { DevOptions } from './dev-options.js'
import { loadApp } from './load-app.js'
import type { Io } from './io.js'

/** Under --once, how long the system may take to go idle after the app started. */
const ONCE_IDLE_TIMEOUT_MS = 60_000
/** kinesis-local writes its data to disk once a second; a stop sooner would lose the last of it. */
const KINESIS_LOCAL_PERSIST_MS = 1_100

/** Runs `troupe dev` with parsed options; resolves to the exit code, or throws a CliError. */
export async function runDev(options: DevOptions, io: Io): Promise<number> {
  const signals = new Signals(io.stderr)
  try {
    return await run(options, io, signals)
  } finally {
    signals.dispose()
  }
}

/** Thrown between start-up steps when a signal came: stop what started, exit 130 (143 for SIGTERM). */
class Interrupted extends Error {}

async function run(options: DevOptions, io: Io, signals: Signals): Promise<number> {
  const cwd = process.cwd()
  const show = (path: string) => shortPath(cwd, path)
  const appFile = resolve(cwd, options.app)
  const dir = resolve(cwd, options.dir)
  const dataDir = join(dir, 'data')
  const lockFile = join(dir, DEV_FILE)
  const note = (line: string) => {
    if (!options.json) io.stderr.write(`troupe dev: ${line}\n`)
  }

  const app = await loadApp(appFile, { given: options.app, shown: show(appFile) })
  const appError = (error: unknown): never => {
    if (error instanceof ConfigError) throw new CliError(`${show(appFile)}: ${messageOf(error)}`, 2, { cause: error })
    throw error
  }
  if (app.stream !== undefined && options.stream === undefined && !STREAM_NAME.test(app.stream)) {
    throw new CliError(`${show(appFile)}: stream must be a Kinesis stream name (1–128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(app.stream)}`, 2)
  }
  const router = { ...app.router, defaultStream: options.stream ?? app.stream ?? 'troupe' }
  let streams: string[] = []
  try {
    streams = new Router(router).streams
  } catch (error) {
    appError(error)
  }

  // Stopped in reverse: app, system, clients, stack, lock.
  const cleanups: { what: string; run: () => Promise<void> }[] = []
  let failure: CliError | undefined
  const cleanupFailures: string[] = []
  let system: AwsSystem | undefined
  let snapshot: SystemSnapshot | undefined
  let lambdaHost: DevLambdaHost | undefined
  let lambdaStats: DevLambdaStats | undefined
  let lambdaDeadLetters = 0
  let ready = false
  let interrupted = false
  const startedAt = Date.now()
  const step = () => {
    if (signals.received) throw new Interrupted()
  }

  try {
    takeLock(dir, lockFile, show)
    cleanups.push({ what: `remove ${show(lockFile)}`, run: async () => rmSync(lockFile, { force: true }) })

    note(`starting dynalite and ${options.kinesis} on 127.0.0.1, data in ${show(dataDir)}`)
    let stack: LocalStack
    try {
      stack = await startLocalStack({ path: dataDir, kinesis: options.kinesis })
    } catch (error) {
      throw new CliError(`the local AWS stack did not start: ${messageOf(error)}`, 1, { cause: error })
    }
    cleanups.push({
      what: `stop ${options.kinesis} and dynalite`,
      run: async () => {
        if (stack.kinesis === 'kinesis-local') await sleep(KINESIS_LOCAL_PERSIST_MS)
        await stack.stop()
      },
    })
    const { dynamodb, kinesis } = clients(stack)
    cleanups.push({
      what: 'close the AWS clients',
      run: async () => {
        dynamodb.destroy()
        kinesis.destroy()
      },
    })
    step()

    let shards: { name: string; shards: number }[]
    try {
      await ensureResources({ kinesis, dynamodb, tableName: options.table, streams, shards: options.shards })
      shards = await describeStreams(kinesis, streams)
      const released = await releaseLeftLeases(kinesis, dynamodb, options.table, streams)
      if (released > 0) note(`released ${released} shard lease${released === 1 ? '' : 's'} left by a troupe dev that did not stop cleanly`)
    } catch (error) {
      throw new CliError(`could not create table ${options.table} and streams ${streams.join(', ')}: ${messageOf(error)}`, 1, { cause: error })
    }
    step()

    const systemOptions = { actors: app.actors, ...(app.filters ? { filters: app.filters } : {}), ...(app.payloads ? { payloads: app.payloads } : {}), router, logLevel: options.logLevel }
    const counted = new LocalMetrics(() => system!.requests.snapshot())
    // The backlog gauges of the same lines are readings, kept apart from the counts.
    const gauges = new GaugeWindow()
    const metrics = withGauges(counted, gauges)
    if (options.host === 'lambda') {
      note(`bundling ${show(appFile)} with the Lambda host; its turns run in local function processes`)
      let host: DevLambdaHost
      try {
        host = await startDevLambdaHost({
          appFile,
          ...(app.files ? { files: app.files } : {}),
          ...(app.runtime ? { runtime: app.runtime } : {}),
          dir,
          stack,
          kinesis,
          dynamodb,
          table: options.table,
          streams,
          defaultStream: router.defaultStream,
          system: systemOptions,
          logLevel: options.logLevel,
          tickMs: options.tickMs,
          // The functions' EMF lines are their metrics (CloudWatch would take them from the log): kept, not shown.
          onLog: (line) => {
            if (!counted.ingest(line)) io.stderr.write(`${line}\n`)
            else gauges.ingest(line)
          },
        })
      } catch (error) {
        if (error instanceof ConfigError) appError(error)
        throw new CliError(`the Lambda host did not start: ${messageOf(error)}`, 1, { cause: error })
      }
      lambdaHost = host!
      system = lambdaHost.system
      cleanups.push({
        what: 'stop the Lambda host (mappings, function environments, Invoke API)',
        run: async () => {
          const dead = await host.system.deadLetters().catch(() => [])
          lambdaDeadLetters = dead.filter((d) => d.deadAt >= startedAt).length
          try {
            await host.stop()
          } finally {
            snapshot = host.system.inspect()
            lambdaStats = host.stats()
          }
        },
      })
    } else {
      try {
        system = new AwsSystem({ ...systemOptions, kinesis, dynamodb, tableName: options.table, pollMs: 100 })
      } catch (error) {
        appError(error)
      }
      const running = system!
      cleanups.push({
        what: 'stop the system',
        run: async () => {
          try {
            await running.stop()
          } finally {
            snapshot = running.inspect()
          }
        },
      })
    }
    const running = system!
    // Inspection on loopback from the first message: `troupe inspect --url` and the web view.
    // On the Lambda host the turns run in the function processes: what they did is in the table and
    // in their metrics, as for a deployed stack; this process's own view knows only its sends.
    // On the process host, the instances are read from the table too: the system remembers only those whose turns ran here since it started.
    const table = new TableInspector({ dynamodb, tableName: options.table, kinesis, stream: router.defaultStream, metrics, actors: app.actors })
    const own = lambdaHost ? undefined : new SystemInspector(running, { actors: app.actors })
    const inspector: Inspector & { close(): Promise<void> } = own === undefined ? table : new ProcessHostInspector(own, table, options.table)
    // The web view's live feed: this process's events (on the Lambda host, its sends).
    const log = own?.log ?? new TrafficLog(running)
    const inspection = await serveInspection(inspector, { log })
    cleanups.push({
      what: 'stop serving inspection',
      run: async () => {
        await inspection.close()
        await inspector.close()
        log.stop()
      },
    })
    // Said at once, not at ready: `troupe inspect` finds this run while the app's start() runs.
    const startedIso = new Date(startedAt).toISOString()
    writeDevFile(lockFile, {
      event: 'starting',
      pid: process.pid,
      startedAt: startedIso,
      inspect: { url: inspection.url },
      dynamodb: { endpoint: stack.dynamodbEndpoint, table: options.table },
      kinesis: { endpoint: stack.kinesisEndpoint, emulator: stack.kinesis, streams: shards },
    })
    step()

    let appInfo: Record<string, unknown> | undefined
    if (app.start) {
      let stop: AppStop | undefined
      try {
        const started = startedOf(await app.start(running, { dir, once: options.once, log: (line) => io.stderr.write(`${line}\n`) }))
        stop = started.stop
        appInfo = started.info
      } catch (error) {
        throw new CliError(`${show(appFile)}: start() failed: ${describeStartError(error)}`, 1, { cause: error })
      }
      if (stop) cleanups.push({ what: `stop the app (${show(appFile)})`, run: async () => stop() })
    }
    step()

    const info = { ...readyInfo({ appFile, appInfo, dir, dataDir, stack, table: options.table, shards, app, system: running, lambda: lambdaHost }), inspect: { url: inspection.url } }
    writeDevFile(lockFile, { ...info, pid: process.pid, startedAt: startedIso })
    io.stdout.write(options.json ? `${JSON.stringify(info)}\n` : formatReady(info, { show, once: options.once }))
    ready = true

    if (options.once) {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), ONCE_IDLE_TIMEOUT_MS)))
      try {
        const idle = (lambdaHost ? lambdaHost.idle(ONCE_IDLE_TIMEOUT_MS) : running.idle()).then(() => 'idle' as const)
        idle.catch(() => {}) // once the race is over (a signal, the timeout), a late rejection is moot
        const outcome = await Promise.race([idle, timedOut, signals.stopped.then(() => 'signal' as const)])
        if (outcome === 'timeout') throw new CliError(`the system was still busy ${ONCE_IDLE_TIMEOUT_MS / 1000} s after the app started (--once waits that long to go idle)`)
        if (outcome === 'signal') interrupted = true
      } finally {
        clearTimeout(timer)
      }
    } else {
      await signals.stopped
    }
  } catch (error) {
    if (error instanceof Interrupted) interrupted = true
    else if (error instanceof CliError) failure = error
    // A peer found missing on the way (the ones named at start are checked before): exit 2, as those.
    else failure = new CliError(error instanceof TroupeError ? error.message : `unexpected error: ${stackOf(error)}`, error instanceof MissingPeerError ? 2 : 1, { cause: error })
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run()
      } catch (error) {
        cleanupFailures.push(`could not ${cleanup.what}: ${messageOf(error)}`)
      }
    }
  }

  if (snapshot) {
    const summary = stoppedInfo(snapshot, Date.now() - startedAt, lambdaStats && { stats: lambdaStats, deadLetters: lambdaDeadLetters })
    io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatStopped(summary))
  }
  if (failure || cleanupFailures.length > 0) {
    const messages = [...(failure ? [failure.message] : []), ...cleanupFailures]
    throw new CliError(messages.join('; '), failure?.exitCode ?? 1, { cause: failure })
  }
  if (interrupted && (!ready || options.once)) {
    note('stopped before it was done')
    return signals.received === 'SIGTERM' ? 143 : 130
  }
  return 0
}

// ── the app ─────────────────────────────────────────────────────────────────

function describeStartError(error: unknown): string {
  const e = error as { code?: string; port?: number; address?: string }
  if (e?.code === 'EADDRINUSE') return `port ${e.port ?? '?'}${e.address ? ` on ${e.address}` : ''} is in use (another process listens there)`
  return messageOf(error)
}

// ── helpers ─────────────────────────────────────────────────────────────────

/** A path relative to the working folder when it is inside it, else absolute. */
function shortPath(cwd: string, path: string): string {
  const rel = relative(cwd, path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error)
}
