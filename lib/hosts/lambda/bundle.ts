// Bundles a Lambda entry (a module that exports `handler`, made with createLambdaHandler) into
// one ESM file for the nodejs20.x runtime: what `troupe deploy` uploads and what the local
// event source mapping runs. Everything is bundled, the AWS SDK included: the SDK a Lambda
// runtime ships is not the version troupe was tested with.
//
// esbuild is loaded when a bundle is made, through a specifier bundlers do not follow, so a
// handler that imports `troupe/lambda` never pulls esbuild into its own bundle.
import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { BuildOptions, Plugin } from 'esbuild'
import { TroupeError } from '../../core/errors.js'

export interface BundleOptions {
  /** The module that exports `handler`. */
  entry: string
  /** Where the bundle goes (`.mjs` keeps Node from guessing the module kind). */
  outfile: string
  /** @default false */
  minify?: boolean
  /** A source map next to the bundle (`<outfile>.map`), used by stack traces when Node runs with --enable-source-maps. @default false */
  sourcemap?: boolean
  /**
   * Packages left out of the bundle; they must then be installed next to it. The optional
   * peer `xstate` is bundled when the entry uses it and otherwise never reached.
   * @default []
   */
  external?: string[]
  /** More esbuild plugins (tests use one to reach module-private fixtures). */
  plugins?: Plugin[]
  /** Values replaced at build time, as esbuild's `define`. */
  define?: Record<string, string>
}

export interface BundleResult {
  outfile: string
  /** Size of the bundle file. */
  bytes: number
  /** How long esbuild took. */
  ms: number
}

/**
 * CommonJS dependencies inside an ESM bundle still call `require` (for Node built-ins) and
 * read `__filename`/`__dirname`: give them what Node gives a CommonJS module.
 */
const BANNER = `import { createRequire as __troupeCreateRequire } from 'node:module';
import { fileURLToPath as __troupeFileURLToPath } from 'node:url';
import { dirname as __troupeDirname } from 'node:path';
const require = __troupeCreateRequire(import.meta.url);
const __filename = __troupeFileURLToPath(import.meta.url);
const __dirname = __troupeDirname(__filename);`

/** Bundles `entry` into `outfile` (platform node, node20, ESM, everything inside). */
export async function bundleHandler(options: BundleOptions): Promise<BundleResult> {
  const outfile = resolve(options.outfile)
  const esbuild = await loadEsbuild()
  await mkdir(dirname(outfile), { recursive: true })
  const build: BuildOptions = {
    entryPoints: [resolve(options.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // The ESM builds of the SDK and its dependencies: smaller, and tree-shaken.
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    minify: options.minify ?? false,
    // Error classes are told apart by name (TroupeError sets `name` from the class), also
    // across processes in dead letters and receipts: minified names would break that.
    keepNames: true,
    sourcemap: options.sourcemap ?? false,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
    // Code meant for hosts that read streams themselves is dead in a Lambda (lib/aws/aws-system.ts).
    define: { 'process.env.TROUPE_LAMBDA_BUNDLE': '"true"', ...options.define },
    logLevel: 'silent',
    legalComments: 'none',
    metafile: false,
  }
  const started = performance.now()
  try {
    await esbuild.build(build)
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors
    const detail = errors?.length ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n') : (error as Error).message
    throw new TroupeError('TROUPE_BUNDLE', `bundling ${options.entry} failed:\n${detail}`, { cause: error })
  }
  const ms = Math.round(performance.now() - started)
  const { size } = await stat(outfile)
  return { outfile, bytes: size, ms }
}

async function loadEsbuild(): Promise<typeof import('esbuild')> {
  // A variable specifier: bundlers leave it alone (see the top of this file).
  const specifier: string = 'esbuild'
  try {
    const mod = (await import(specifier)) as typeof import('esbuild') & { default?: typeof import('esbuild') }
    return typeof mod.build === 'function' ? mod : mod.default!
  } catch (error) {
    throw new TroupeError('TROUPE_BUNDLE', 'bundling a Lambda needs the npm package "esbuild"; install it with `npm install esbuild`', { cause: error })
  }
}
