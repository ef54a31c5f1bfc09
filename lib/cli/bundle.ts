// `troupe bundle`: the app's actors and the Lambda host as minified ESM, zipped for Lambda, and
// how big it came out (lib/deploy/bundle.ts does the work).
import { existsSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import type { BuiltBundle, InitTiming } from '../deploy/bundle.js'
import { CliError, parseFlags, UsageError } from './cli-error.js'
import type { Io } from './main.js'
import type { BundleFiles } from '../deploy/bundle-files.js'
import { loadApp } from './template.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../hosts/lambda/lambda-runtime.js'

export const BUNDLE_USAGE = `Usage: troupe bundle [options]

Bundles the app's actors with the Lambda host (esbuild: minified ESM for the runtime's Node,
the AWS SDK inside), zips it for Lambda, and reports the sizes: what a cold start loads (index.mjs and
the chunks it imports) and all the files (with the chunks loaded when a rarely used path first
runs). The zip's index.mjs exports \`handler\`: the function's handler is index.handler.

Options
  --app <file>        the app: a module whose default export is defineApp({ actors, … })
                      (default ./troupe.app.ts)
  --entry <file>      instead of --app: a module of your own that exports \`handler\`
                      (export const handler = createLambdaHandler({ … }) from troupe/lambda)
  --out-dir <folder>  where index.mjs, its chunks and lambda.zip go (default .troupe/build)
  --runtime <name>    the Lambda runtime it is built for: nodejs24.x (default) or nodejs22.x
  --no-minify         readable output (bigger, slower to load)
  --credential-chain  keep the SDK's whole credential chain; by default the bundle reads
                      credentials from the environment only, as Lambda provides them
  --measure-init      also time module init (import of the bundle in a fresh process, 5 times)
  --json              print the report as JSON on stdout
  -h, --help          show this help

Exit code: 0 when the bundle was made, 2 on bad options or an app that is missing or is
not an app, 1 when bundling failed.
`

export async function bundle(args: readonly string[], io: Io): Promise<number> {
  const values = parseFlags(args, {
    app: { type: 'string' },
    entry: { type: 'string' },
    'out-dir': { type: 'string' },
    runtime: { type: 'string' },
    'no-minify': { type: 'boolean' },
    'credential-chain': { type: 'boolean' },
    'measure-init': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout.write(BUNDLE_USAGE)
    return 0
  }
  const built = await bundleFromFlags(values)
  let init: InitTiming | undefined
  if (values['measure-init']) {
    const { measureInit } = await import('../deploy/bundle.js')
    try {
      init = await measureInit(built.outfile)
    } catch (error) {
      throw new CliError(`the bundle was made, but importing it failed: ${(error as Error).message}`, 1, { cause: error })
    }
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ...built, ...(init ? { initMs: init } : {}) })}\n`)
  } else {
    io.stdout.write(formatBundle(built, init))
  }
  return 0
}

/** Bundles from --app or --entry, --out-dir, --no-minify, --credential-chain (shared with deploy). */
export async function bundleFromFlags(
  values: { app?: string; entry?: string; 'out-dir'?: string; 'no-minify'?: boolean; 'credential-chain'?: boolean; runtime?: string },
): Promise<BuiltBundle> {
  if (values.app !== undefined && values.entry !== undefined) throw new UsageError('give --app or --entry, not both')
  if (values.runtime !== undefined && !isLambdaRuntime(values.runtime)) throw new UsageError(`--runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(values.runtime)}`)
  let runtime = (values.runtime as LambdaRuntime | undefined) ?? DEFAULT_LAMBDA_RUNTIME
  for (const flag of ['app', 'entry', 'out-dir'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} needs a value`)
  }
  const outDir = values['out-dir'] ?? '.troupe/build'
  let source: { app: string; files?: BundleFiles } | { entry: string }
  if (values.entry !== undefined) {
    source = { entry: resolve(values.entry) }
    if (!existsSync(source.entry)) throw new UsageError(`no entry at ${values.entry}: give a module that exports \`handler\``)
  } else {
    const given = values.app ?? './troupe.app.ts'
    // Loaded first, so a missing or malformed app is said as plainly as `troupe dev` says it.
    const app = await loadApp(resolve(given), given)
    source = { app: resolve(given), ...(app.files ? { files: app.files } : {}) }
    if (values.runtime === undefined && app.runtime !== undefined) runtime = app.runtime
  }
  const { buildBundle } = await import('../deploy/bundle.js')
  try {
    return await buildBundle({ ...source, outDir, runtime, minify: !values['no-minify'], credentialChain: values['credential-chain'] === true })
  } catch (error) {
    throw new CliError((error as Error).message.replace(/^\[TROUPE_BUNDLE\] /, ''), 1, { cause: error })
  }
}

export function formatBundle(built: BuiltBundle, init?: InitTiming): string {
  const show = (p: string) => relative(process.cwd(), p) || '.'
  const lines = [
    `troupe bundle: ${show(built.outfile)}  ${kib(built.initBytes)} loaded at init${built.withinTarget ? '' : ` (over the ${kib(built.targetBytes)} aimed at for a small system)`}; ${kib(built.bytes)} in ${built.bundleFiles.length} files`,
    `troupe bundle: ${show(built.zipfile)}  ${kib(built.zipBytes)}  CodeSha256 ${built.codeSha256}`,
    `troupe bundle: made in ${built.ms} ms; the handler is index.handler (${built.runtime})`,
  ]
  if (init) lines.push(`troupe bundle: module init ${init.median} ms (median of ${init.runs.join(', ')} ms)`)
  return `${lines.join('\n')}\n`
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`
}
