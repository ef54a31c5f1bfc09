// `troupe bundle`: the app's actors and the Lambda host as minified ESM, zipped for Lambda, and
// how big it came out (lib/deploy/bundle.ts does the work).
import { existsSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import type { Command } from 'commander'
import type { BuiltBundle, InitTiming } from '../deploy/bundle.js'
import type { BundleFiles } from '../app/bundle-files.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../platform/lambda-runtime.js'
import { CliError, UsageError, withoutCode } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { DEFAULT_APP_HELP, defaultApp, loadApp } from './load-app.js'
import type { Io } from './io.js'

/** The flags that say what to bundle and how, as commander reads them (bundle and deploy). */
export interface BundleFlags {
  app?: string
  entry?: string
  outDir?: string
  runtime?: string
  /** False under --no-minify. */
  minify?: boolean
  credentialChain?: boolean
}

function bundleCommand(io: Io): Command {
  return newCommand('troupe bundle', io)
    .description(
      "Bundles the app's actors with the Lambda host (esbuild: minified ESM for the runtime's Node, the AWS SDK inside), " +
        'zips it for Lambda, and reports the sizes: what a cold start loads (index.mjs and the chunks it imports) and all the files ' +
        "(with the chunks loaded when a rarely used path first runs). The zip's index.mjs exports `handler`: the function's handler is index.handler.",
    )
    .option('--app <file>', `the app: a module whose default export is defineApp({ actors, … }) ${DEFAULT_APP_HELP}`)
    .option('--entry <file>', 'instead of --app: a module of your own that exports `handler` (export const handler = createLambdaHandler({ … }) from troupe/lambda)')
    .option('--out-dir <folder>', 'where index.mjs, its chunks and lambda.zip go (default .troupe/build)')
    .option('--runtime <name>', `the Lambda runtime it is built for: ${LAMBDA_RUNTIMES.join(' or ')} (default: the app's runtime, else ${DEFAULT_LAMBDA_RUNTIME})`)
    .option('--no-minify', 'readable output (bigger, slower to load)')
    .option('--credential-chain', "keep the SDK's whole credential chain; by default the bundle reads credentials from the environment only, as Lambda provides them")
    .option('--measure-init', "also time module init (import of the bundle in a fresh process of the runtime's Node, 5 times)")
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      `
Exit code: 0 when the bundle was made, 2 on bad options or an app that is missing or is
not an app, 1 when bundling failed.
`,
    )
}

export async function bundle(args: readonly string[], io: Io): Promise<number> {
  const program = bundleCommand(io)
  const helped = await parseCommand(program, args)
  if (helped !== undefined) return helped
  const values = program.opts<BundleFlags & { measureInit?: boolean; json?: boolean }>()
  const built = await bundleFromFlags(values)
  let init: InitTiming | undefined
  if (values.measureInit) {
    const { measureInit } = await import('../deploy/bundle.js')
    try {
      init = await measureInit(built.outfile, { runtime: built.runtime })
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

/** Bundles from --app or --entry, --out-dir, --runtime, --no-minify, --credential-chain (shared with deploy). */
export async function bundleFromFlags(values: BundleFlags): Promise<BuiltBundle> {
  if (values.app !== undefined && values.entry !== undefined) throw new UsageError('give --app or --entry, not both')
  if (values.runtime !== undefined && !isLambdaRuntime(values.runtime)) throw new UsageError(`--runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(values.runtime)}`)
  let runtime = (values.runtime as LambdaRuntime | undefined) ?? DEFAULT_LAMBDA_RUNTIME
  for (const [flag, value] of [['--app', values.app], ['--entry', values.entry], ['--out-dir', values.outDir]] as const) {
    if (value === '') throw new UsageError(`${flag} needs a value`)
  }
  const outDir = values.outDir ?? '.troupe/build'
  let source: { app: string; files?: BundleFiles } | { entry: string }
  if (values.entry !== undefined) {
    source = { entry: resolve(values.entry) }
    if (!existsSync(source.entry)) throw new UsageError(`no entry at ${values.entry}: give a module that exports \`handler\``)
  } else {
    const given = values.app ?? defaultApp()
    // Loaded first, so a missing or malformed app is said as plainly as `troupe dev` says it.
    const app = await loadApp(resolve(given), { given })
    source = { app: resolve(given), ...(app.files ? { files: app.files } : {}) }
    if (values.runtime === undefined && app.runtime !== undefined) runtime = app.runtime
  }
  const { buildBundle } = await import('../deploy/bundle.js')
  try {
    return await buildBundle({ ...source, outDir, runtime, minify: values.minify !== false, credentialChain: values.credentialChain === true })
  } catch (error) {
    throw new CliError(withoutCode((error as Error).message), 1, { cause: error })
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
