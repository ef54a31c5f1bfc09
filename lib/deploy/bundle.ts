// `troupe bundle`: the app's actors and the Lambda host as minified ESM, zipped for Lambda.
// The bundling itself is bundleHandler (lib/deploy/bundle-handler.ts, which the local event
// source mapping uses too); this file makes the entry from an app, trims what a Lambda never
// uses or rarely uses (lib/deploy/bundle-trims.ts), writes the zip, and measures.
//
// Size: every byte the entry loads is parsed at every cold start, so the target is on those
// (`initBytes`: the entry and the chunks it imports statically); chunks reached only through
// `import()`, and the lazily required .cjs files, load when their path first runs. The SDK's
// credential chain (about 135 KB minified) is replaced by the environment provider, as in
// Lambda the credentials are always in the environment; `credentialChain: true` keeps it, for
// a host that is not a Lambda.
import { spawn } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ConfigError } from '../core/errors.js'
import { bundleHandler } from './bundle-handler.js'
import { DEFAULT_LAMBDA_RUNTIME, type LambdaRuntime } from '../platform/lambda-runtime.js'
import { runtimeNode } from '../local/runtime-node.js'
import type { BundleFiles } from '../app/bundle-files.js'
import { copyBundleFiles } from './bundle-files.js'
import { lambdaCredentialsPlugin, lambdaSdkTrimsPlugin, lazyModulesPlugin } from './bundle-trims.js'
import { codeSha256, zip } from './zip.js'

/** The size aimed at for a small system, minified: of what a cold start loads (`initBytes`). */
export const BUNDLE_TARGET_BYTES = 400 * 1024
/** The bundle's entry, in the zip and beside its chunks: the handler is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs'
export const ZIP_FILE = 'lambda.zip'

export interface BuildBundleOptions {
  /** An app (`export default defineApp({ actors, … })`): the host is made for its actors, filters and routing. */
  app?: string
  /** Or a module of your own that exports `handler` (made with `createLambdaHandler`). */
  entry?: string
  /** Where `index.mjs`, `lambda.zip` (and, for an app, the generated `entry.mjs`) go. */
  outDir: string
  /** @default true */
  minify?: boolean
  /** The Lambda runtime it runs on: built for its Node. @default 'nodejs24.x' */
  runtime?: LambdaRuntime
  /** Keep the SDK's whole credential chain (see the top of this file). @default false */
  credentialChain?: boolean
  /** Files to carry beside `index.mjs` (an app's `files`), found from the app's (or entry's) folder. */
  files?: BundleFiles
}

export interface BuiltBundle {
  /** The Lambda runtime it was built for. */
  runtime: LambdaRuntime
  /** The module bundled: the app's generated entry, or the given entry. */
  entry: string
  /** The bundle's entry (`<outDir>/index.mjs`). */
  outfile: string
  /** The entry, then the files it loads when a path first needs them (chunks, croner.cjs), all in `outDir`. */
  bundleFiles: string[]
  /** Size of all of them. */
  bytes: number
  /** Size of what a cold start loads: the entry and the chunks it imports statically. */
  initBytes: number
  /** The deployment package (`<outDir>/lambda.zip`: the bundle's files under their names, and the app's `files`). */
  zipfile: string
  zipBytes: number
  /** SHA-256 of the zip, base64: what Lambda reports as the function's CodeSha256. */
  codeSha256: string
  /** How long bundling and zipping took. */
  ms: number
  /** {@link BUNDLE_TARGET_BYTES}, and whether `initBytes` is within it. */
  targetBytes: number
  withinTarget: boolean
}

/**
 * Bundles an app (or an entry that exports `handler`) for Lambda and zips it.
 *
 * @example
 * const built = await buildBundle({ app: 'troupe.app.ts', outDir: '.troupe/build' })
 * console.log(`${built.bytes} bytes, zip ${built.zipBytes}`)
 */
export async function buildBundle(options: BuildBundleOptions): Promise<BuiltBundle> {
  if ((options.app === undefined) === (options.entry === undefined)) throw new ConfigError('buildBundle: give app or entry, one of the two')
  const started = performance.now()
  const outDir = resolve(options.outDir)
  await mkdir(outDir, { recursive: true })
  let entry: string
  if (options.app !== undefined) {
    entry = join(outDir, 'entry.mjs')
    await writeFile(entry, lambdaEntrySource(resolve(options.app)))
  } else {
    entry = resolve(options.entry!)
  }
  const outfile = join(outDir, BUNDLE_FILE)
  const lazy = lazyModulesPlugin()
  const runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME
  const result = await bundleHandler({
    entry,
    outfile,
    runtime,
    minify: options.minify ?? true,
    plugins: [...(options.credentialChain ? [] : [lambdaCredentialsPlugin()]), lambdaSdkTrimsPlugin(), lazy.plugin],
  })
  const bundleFiles = [...result.files, ...lazy.files]
  let bytes = 0
  const code: { name: string; data: Buffer }[] = []
  for (const file of bundleFiles) {
    const data = await readFile(file)
    bytes += data.length
    code.push({ name: basename(file), data })
  }
  const files = options.files ? await copyBundleFiles(options.files, dirname(resolve(options.app ?? options.entry!)), outDir) : []
  const archive = zip([...code, ...files])
  const zipfile = join(outDir, ZIP_FILE)
  await writeFile(zipfile, archive)
  return {
    runtime,
    entry,
    outfile,
    bundleFiles,
    bytes,
    initBytes: result.initBytes,
    zipfile,
    zipBytes: archive.length,
    codeSha256: codeSha256(archive),
    ms: Math.round(performance.now() - started),
    targetBytes: BUNDLE_TARGET_BYTES,
    withinTarget: result.initBytes <= BUNDLE_TARGET_BYTES,
  }
}

/**
 * The entry module made for an app: its actors, filters, routing and payloads under `createLambdaHandler`,
 * the default stream from TROUPE_STREAM (which the deployment sets) before the app's own.
 */
export function lambdaEntrySource(appFile: string): string {
  // The host beside this file: lib/…/index.ts when troupe runs from its sources, dist/…/index.js when installed.
  const host = fileURLToPath(new URL(`../lambda/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
  return `// Made by \`troupe bundle\` for ${appFile}: the app's actors in the Lambda host.
import * as mod from ${JSON.stringify(appFile)}
import { createLambdaHandler } from ${JSON.stringify(host)}

// A .ts app outside a "type": "module" package is CommonJS: its default export is one level down.
const found = mod.default
const app = found && !Array.isArray(found.actors) && found.default ? found.default : found
if (!app || !Array.isArray(app.actors)) throw new Error(${JSON.stringify(`${appFile} does not export default defineApp({ actors: [...] })`)})

export const handler = createLambdaHandler({
  actors: app.actors,
  ...(app.filters ? { filters: app.filters } : {}),
  ...(app.payloads ? { payloads: app.payloads } : {}),
  router: { ...app.router, defaultStream: process.env.TROUPE_STREAM || app.stream || 'troupe' },
})
`
}

export interface InitTiming {
  /** Milliseconds `import()` of the bundle took in each fresh process. */
  runs: number[]
  median: number
}

/**
 * Module init of a bundle as a Lambda cold start pays it: a fresh process of the runtime's Node imports it, with
 * the environment a Lambda has (fake credentials, TROUPE_TABLE, TROUPE_STREAM). For the bench;
 * sends no request (the handler makes its clients and system, and nothing else, at import).
 */
export async function measureInit(file: string, options: { runs?: number; env?: Record<string, string>; runtime?: LambdaRuntime } = {}): Promise<InitTiming> {
  await stat(file)
  // The Node the function runs on (Node 24 for nodejs24.x), found or installed as the local Lambda's is.
  const node = await runtimeNode(options.runtime ?? DEFAULT_LAMBDA_RUNTIME)
  const runs: number[] = []
  const script =
    'const t = performance.now(); await import(process.argv[1]); ' +
    'process.stdout.write(JSON.stringify({ ms: performance.now() - t })); process.exit(0)'
  for (let i = 0; i < (options.runs ?? 5); i++) {
    const out = await new Promise<string>((done, fail) => {
      const child = spawn(node, ['--input-type=module', '-e', script, pathToFileURL(resolve(file)).href], {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_SESSION_TOKEN: 'local',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          TROUPE_TABLE: 'troupe',
          TROUPE_STREAM: 'troupe',
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
      child.on('error', fail)
      child.on('close', (code) => (code === 0 ? done(stdout) : fail(new Error(`importing ${file} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`))))
    })
    runs.push(Math.round((JSON.parse(out) as { ms: number }).ms * 10) / 10)
  }
  const sorted = [...runs].sort((a, b) => a - b)
  return { runs, median: sorted[Math.floor(sorted.length / 2)]! }
}
