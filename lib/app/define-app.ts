// What `troupe dev` runs: a module whose default export is `defineApp({ … })`. The app names its
// actors (and optionally filters and routing); `troupe dev` brings the AWS mode up under them on a
// local stack, then hands the running system to the app's own `start` (an HTTP API, a feeder)
// and calls the function it returns before stopping. `troupe bundle`, `template` and `deploy`
// read the same app. The declaration lives below the CLI, which only reads it, so that troupe/aws
// exports defineApp without loading any of the CLI.
import { bundleFilesProblem, type BundleFiles } from './bundle-files.js'
import type { ActorClass } from '../core/actor.js'
import type { Filter } from '../core/filter.js'
import type { System } from '../core/system.js'
import type { PipelineInfo } from '../pipeline/pipeline.js'
import type { ClaimCheckOptions } from '../routing/claim-check.js'
import type { RouterOptions } from '../routing/router.js'
import { isLambdaRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../platform/lambda-runtime.js'

/** Stops what `start` started; `troupe dev` calls it first when it stops. */
export type AppStop = () => Promise<void> | void

/** What `start` may return instead of a bare stop function. */
export interface AppStarted {
  stop?: AppStop
  /**
   * Where the app's own things are (`{ api: 'http://127.0.0.1:5173' }`): printed with the rest
   * by `troupe dev`, and as `app.info` in its `--json` output and `dev.json`. Must be JSON.
   */
  info?: Record<string, unknown>
}

/** What `troupe dev` tells `start` about the run. */
export interface AppContext {
  /** The project folder (`--dir`, absolute); the emulators' data lives in its `data/`. */
  dir: string
  /** True under `--once`: start, let the system settle, stop. */
  once: boolean
  /** Writes a line to stderr (stdout belongs to `troupe dev`, and is JSON under `--json`). */
  log(line: string): void
}

export interface App {
  /** Every actor class the system runs. */
  actors: readonly ActorClass[]
  /** Global filters, run before every actor's own. */
  filters?: readonly Filter[]
  /** The app's pipelines (`pipeline(…)`), drawn by `troupe graph`; their `actors` belong in `actors` too. */
  pipelines?: readonly PipelineInfo[]
  /** The stream every message goes to unless `router` says otherwise; `--stream` overrides it. @default 'troupe' */
  stream?: string
  /** Streams per actor type and priority (see RouterOptions); `troupe dev` creates each of them. */
  router?: Omit<RouterOptions, 'isKeyed' | 'defaultStream'>
  /**
   * The claim check (README, "Large messages"): bodies over `aboveBytes` travel as a reference to
   * a payload store, so a record larger than the stream takes still goes through. Given to every
   * AwsSystem of the app — `troupe dev`'s (either host) and the Lambda host of the bundle — since
   * a host without it dead-letters the references it gets. `{}` keeps the bodies as DynamoDB chunks
   * in the app's table. The embedded mode has no record limit and needs none.
   */
  payloads?: Partial<ClaimCheckOptions>
  /**
   * Files the Lambda bundle carries beside `index.mjs`, for code that reads them at run time:
   * path in the bundle → source, relative to this file's folder (`./data.csv`) or a package path
   * found in node_modules (`sql.js/dist/sql-wasm.wasm`). `troupe bundle`, `template`, `deploy` and
   * `troupe dev`'s Lambda host all carry them.
   */
  files?: BundleFiles
  /**
   * The Lambda runtime `troupe bundle`, `template` and `deploy` build and deploy for (`--runtime`
   * overrides it). @default 'nodejs24.x'
   */
  runtime?: LambdaRuntime
  /**
   * Runs the app's own code against the started system; returns how to stop it (a function, or
   * `{ stop, info }`). Called once the table and streams exist and the system reads them.
   */
  start?(system: System, context: AppContext): Promise<AppStop | AppStarted | void> | AppStop | AppStarted | void
}

/**
 * Declares an app for `troupe dev`: `export default defineApp({ actors: [...] })`. Returns the app
 * as given; it exists for the types.
 *
 * @example
 * export default defineApp({
 *   actors: [PageView, PageStats],
 *   async start(system) {
 *     const server = await startApi(system)
 *     return { stop: () => server.close(), info: { api: server.url } }
 *   },
 * })
 */
export function defineApp(app: App): App {
  return app
}

/** Why `value` is not an App, or undefined when it is one (for the CLI's loader). @internal */
export function appProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return `it is ${value === null ? 'null' : typeof value}, not defineApp({ actors: [...] })`
  const app = value as Record<string, unknown>
  if (!Array.isArray(app.actors)) return 'it has no `actors` array: export default defineApp({ actors: [...] })'
  if (app.actors.length === 0) return '`actors` is empty: list the actor classes the app runs'
  for (const [i, actor] of app.actors.entries()) {
    if (typeof actor !== 'function') return `actors[${i}] is ${actor === null ? 'null' : typeof actor}, not an actor class`
  }
  if (app.filters !== undefined && (!Array.isArray(app.filters) || !app.filters.every((f) => typeof f === 'function'))) {
    return '`filters` must be an array of functions'
  }
  if (app.pipelines !== undefined) {
    if (!Array.isArray(app.pipelines)) return '`pipelines` must be an array of pipeline(…) declarations'
    for (const [i, p] of app.pipelines.entries()) {
      if (p === null || typeof p !== 'object' || typeof (p as PipelineInfo).graph !== 'function') return `pipelines[${i}] is not a pipeline(…) declaration`
      const missing = (p as PipelineInfo).actors.filter((stage) => !(app.actors as unknown[]).includes(stage))
      if (missing.length > 0) return `pipeline ${(p as PipelineInfo).name}: add its stages to \`actors\` (...${(p as PipelineInfo).name}.actors); missing ${missing.map((m) => m.type).join(', ')}`
    }
  }
  if (app.stream !== undefined && typeof app.stream !== 'string') return '`stream` must be a stream name'
  if (app.router !== undefined && (app.router === null || typeof app.router !== 'object')) return '`router` must be an object'
  if (app.start !== undefined && typeof app.start !== 'function') return '`start` must be a function'
  if (app.runtime !== undefined && !isLambdaRuntime(app.runtime)) return `\`runtime\` must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(app.runtime)}`
  if (app.payloads !== undefined) {
    const problem = payloadsProblem(app.payloads)
    if (problem !== undefined) return problem
  }
  if (app.files !== undefined) return bundleFilesProblem(app.files)
  return undefined
}

function payloadsProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '`payloads` must be an object: {} for DynamoDB chunks in the table, or { store, aboveBytes, ttlMs }'
  const { store, aboveBytes, ttlMs } = value as Record<string, unknown>
  if (store !== undefined && (store === null || typeof store !== 'object' || typeof (store as Record<string, unknown>).put !== 'function' || typeof (store as Record<string, unknown>).get !== 'function')) {
    return '`payloads.store` must be a PayloadStore (put, get): DynamoDBPayloadStore, FolderPayloadStore, S3PayloadStore or your own'
  }
  if (aboveBytes !== undefined && (!Number.isSafeInteger(aboveBytes) || (aboveBytes as number) < 1)) return `\`payloads.aboveBytes\` must be a whole number of bytes from 1 up, got ${shown(aboveBytes)}`
  if (ttlMs !== undefined && !(typeof ttlMs === 'number' && ttlMs > 0)) return `\`payloads.ttlMs\` must be a positive number of ms, got ${shown(ttlMs)}`
  return undefined
}

const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value))

/** A stop function and info from whatever `start` returned (for `troupe dev`). @internal */
export function startedOf(value: unknown): { stop: AppStop | undefined; info: Record<string, unknown> | undefined } {
  if (typeof value === 'function') return { stop: value as AppStop, info: undefined }
  if (value === undefined || value === null) return { stop: undefined, info: undefined }
  if (typeof value === 'object') {
    const { stop, info } = value as AppStarted
    if (stop !== undefined && typeof stop !== 'function') throw new TypeError('start() returned { stop } that is not a function')
    if (info !== undefined && (info === null || typeof info !== 'object')) throw new TypeError('start() returned { info } that is not an object')
    return { stop, info }
  }
  throw new TypeError(`start() returned ${typeof value}; return a stop function, { stop, info } or nothing`)
}
