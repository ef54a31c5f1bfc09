// Bundles a Lambda entry (a module that exports `handler`, made with createLambdaHandler) into
// ESM for a Node.js Lambda runtime (nodejs24.x unless told): what `troupe deploy` uploads and what the local event source
// mapping runs. Everything is bundled, the AWS SDK included: the SDK a Lambda runtime ships is
// not the version troupe was tested with.
//
// Code reached only through `import()` goes into chunks beside the entry (esbuild's code
// splitting), which Node loads when that path first runs: a cold start parses the entry and the
// chunks it imports statically, not the rest (`initBytes`).
//
// esbuild is loaded when a bundle is made, through a specifier bundlers do not follow, so a
// handler that imports `troupe/lambda` never pulls esbuild into its own bundle.
import { mkdir } from 'node:fs/promises'
import { basename, dirname, extname, resolve } from 'node:path'
import type { BuildOptions, Metafile, Plugin } from 'esbuild'
import { TroupeError } from '../core/errors.js'
import { DEFAULT_LAMBDA_RUNTIME, nodeTarget, type LambdaRuntime } from '../platform/lambda-runtime.js'
import { builtinsByRequirePlugin } from './builtins-by-require.js'

export interface BundleOptions {
  /** The module that exports `handler`. */
  entry: string
  /** Where the bundle's entry goes (`.mjs` keeps Node from guessing the module kind); its chunks go beside it. */
  outfile: string
  /** @default false */
  minify?: boolean
  /** The runtime it runs on: the bundle is built for its Node. @default 'nodejs24.x' */
  runtime?: LambdaRuntime
  /** A source map next to the bundle (`<outfile>.map`), used by stack traces when Node runs with --enable-source-maps. @default false */
  sourcemap?: boolean
  /**
   * Packages left out of the bundle; they must then be installed next to it. The optional
   * peer `xstate` is bundled when the entry uses it and otherwise never reached.
   * @default []
   */
  external?: string[]
  /** More esbuild plugins (tests use one to reach module-private fixtures): esbuild's `Plugin`. */
  plugins?: EsbuildPlugin[]
  /** Values replaced at build time, as esbuild's `define`. */
  define?: Record<string, string>
}

/**
 * An esbuild plugin, as much of one as troupe's declarations name: esbuild is an optional peer, and
 * a project that type-checks `troupe/lambda` without it installed must not meet its types here.
 * `build` is esbuild's `PluginBuild`; write a plugin `satisfies Plugin` (from esbuild) to have it checked.
 */
export interface EsbuildPlugin {
  name: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- esbuild's PluginBuild, which this declaration cannot name
  setup(build: any): void | Promise<void>
}

export interface BundleResult {
  outfile: string
  /** Every file written: the entry (`outfile`) first, then its chunks, each `.mjs` beside it. */
  files: string[]
  /** Size of all the files. */
  bytes: number
  /** Size of what importing the entry loads: the entry and the chunks it imports statically, at any depth. */
  initBytes: number
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

const FROM_SOURCE = import.meta.url.endsWith('.ts')

/** Bundles `entry` into `outfile` (platform node, the runtime's Node, ESM, everything inside). */
export async function bundleHandler(options: BundleOptions): Promise<BundleResult> {
  const outfile = resolve(options.outfile)
  const esbuild = await loadEsbuild()
  await mkdir(dirname(outfile), { recursive: true })
  const ext = extname(outfile)
  if (!ext) throw new TroupeError('TROUPE_BUNDLE', `bundling ${options.entry}: the outfile ${outfile} needs an extension (.mjs), which its chunks beside it take too`)
  const build: BuildOptions & { metafile: true } = {
    entryPoints: [{ in: resolve(options.entry), out: basename(outfile, ext) }],
    outdir: dirname(outfile),
    outExtension: { '.js': ext },
    splitting: true,
    // Named by content: bundles written to one folder share it without clashing, and the same input makes the same files.
    chunkNames: 'chunk-[hash]',
    bundle: true,
    platform: 'node',
    target: nodeTarget(options.runtime ?? DEFAULT_LAMBDA_RUNTIME),
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
    // Last: a caller's plugin may stand in for a built-in itself.
    plugins: [...((options.plugins ?? []) as Plugin[]), builtinsByRequirePlugin()],
    // Code meant for hosts that read streams themselves is dead in a Lambda (lib/aws/aws-system.ts).
    define: { 'process.env.TROUPE_LAMBDA_BUNDLE': '"true"', ...options.define },
    // Run from its sources (this repository), troupe resolves its own name to them, as Node does
    // with --conditions=troupe-source: the app's \`import 'troupe'\` then meets the same modules as
    // the host. Installed, the package's compiled files serve both.
    ...(FROM_SOURCE ? { conditions: ['troupe-source', 'module'] } : {}),
    logLevel: 'silent',
    legalComments: 'none',
    metafile: true,
  }
  const started = performance.now()
  let metafile: Metafile
  try {
    ;({ metafile } = await esbuild.build(build))
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors
    const detail = errors?.length ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n') : (error as Error).message
    throw new TroupeError('TROUPE_BUNDLE', `bundling ${options.entry} failed:\n${detail}`, { cause: error })
  }
  const ms = Math.round(performance.now() - started)
  return { outfile, ...outputsOf(metafile, outfile), ms }
}

/** The files a build wrote, the entry first, and the bytes of all of them and of those the entry loads at import. */
function outputsOf(metafile: Metafile, outfile: string): { files: string[]; bytes: number; initBytes: number } {
  const outputs = new Map(Object.entries(metafile.outputs).map(([path, output]) => [resolve(path), output]))
  const entry = outputs.get(outfile)
  if (!entry) throw new TroupeError('TROUPE_BUNDLE', `esbuild wrote no ${outfile} (it wrote ${[...outputs.keys()].join(', ')})`)
  const loaded = new Set<string>([outfile])
  const pending = [outfile]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const imported of outputs.get(file)?.imports ?? []) {
      const path = resolve(imported.path)
      if (imported.kind === 'import-statement' && outputs.has(path) && !loaded.has(path)) {
        loaded.add(path)
        pending.push(path)
      }
    }
  }
  const files = [outfile, ...[...outputs.keys()].filter((f) => f !== outfile && !f.endsWith('.map')).sort()]
  const size = (f: string) => outputs.get(f)!.bytes
  return {
    files,
    bytes: files.reduce((n, f) => n + size(f), 0),
    initBytes: [...loaded].reduce((n, f) => n + size(f), 0),
  }
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
