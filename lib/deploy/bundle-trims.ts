// What `troupe bundle` leaves out of a Lambda bundle, or loads only when it is used: every byte
// the entry holds is parsed at every cold start (lib/deploy/bundle.ts). Each trim swaps one
// module for a small stand-in at bundle time; the code that uses it is unchanged.
//
// - the SDK's credential chain (SSO, STS, INI files, instance metadata): in Lambda the
//   credentials are in the environment (AWS-SEMANTICS.md §6); `credentialChain: true` keeps it;
// - the SDK's HTTP/2 handler, the Kinesis client's default: only SubscribeToShard needs HTTP/2,
//   troupe never calls it, and the Lambda host gives Kinesis the HTTP/1.1 handler;
// - the event-stream codec the Kinesis and Lambda clients import: the SDK's protocol imports it
//   itself (`import()`, a chunk) when a call streams events;
// - the rest of the checksum module the clients import for Sha256: crc32 and md5 (and node:zlib);
// - the clients' package.json, of which the SDK reads the version;
// - croner, for recurring schedules, and the DynamoDB client's endpoint cache, for endpoint
//   discovery: each a CommonJS file beside the bundle, loaded on first use (below).
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Plugin } from 'esbuild'

const SKIP = Symbol('troupe-bundle-trims')

const CREDENTIALS_SHIM = `// troupe bundle: in Lambda the credentials are in the environment; the rest of the chain is left out.
import { fromEnv } from '@aws-sdk/credential-provider-env'
export const defaultProvider = (init = {}) => {
  const env = fromEnv(init)
  return async () => {
    try {
      return await env()
    } catch (error) {
      error.message = 'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): ' +
        'a troupe Lambda bundle reads them from there, as Lambda sets them; bundle with the whole credential chain to run it elsewhere'
      throw error
    }
  }
}
export const credentialsWillNeedRefresh = () => false
export const credentialsTreatedAsExpired = () => false
`

/** Replaces the SDK's default credential chain with the environment provider (see the top of this file). */
export function lambdaCredentialsPlugin(): Plugin {
  return {
    name: 'troupe-lambda-credentials',
    setup(build) {
      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined
        // Where the real package is: the shim imports the environment provider from beside it.
        const real = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: SKIP })
        if (real.errors.length > 0) return { errors: real.errors }
        return { path: real.path, namespace: 'troupe-lambda-credentials', pluginData: dirname(real.path) }
      })
      build.onLoad({ filter: /.*/, namespace: 'troupe-lambda-credentials' }, (args) => ({
        contents: CREDENTIALS_SHIM,
        resolveDir: args.pluginData as string,
        loader: 'js',
      }))
    },
  }
}

const HTTP2_SHIM = `// troupe bundle: no HTTP/2 (see lib/deploy/bundle-trims.ts); a client that asks for the default gets HTTP/1.1.
import { NodeHttpHandler } from './node-http-handler'
export class NodeHttp2Handler {
  static create(handlerOrOptions) {
    return NodeHttpHandler.create(handlerOrOptions)
  }
  constructor() {
    throw new Error('NodeHttp2Handler is left out of troupe Lambda bundles (only SubscribeToShard needs HTTP/2): use NodeHttpHandler')
  }
}
`

const EVENT_STREAMS_SHIM = `// troupe bundle: the event-stream codec loads when a call streams events (HttpProtocol imports it then).
export const eventStreamSerdeProvider = undefined
export const resolveEventStreamSerdeConfig = (input) =>
  input.eventStreamSerdeProvider ? Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) }) : input
`

/** The SDK trims of the list at the top of this file, all but the credential chain. */
export function lambdaSdkTrimsPlugin(): Plugin {
  return {
    name: 'troupe-lambda-sdk-trims',
    setup(build) {
      build.onResolve({ filter: /^\.\/node-http2-handler$/ }, (args) =>
        /[\\/]@smithy[\\/]node-http-handler[\\/]/.test(args.importer) ? { path: join(args.resolveDir, 'node-http2-handler.js'), namespace: 'troupe-trim', pluginData: { contents: HTTP2_SHIM, resolveDir: args.resolveDir } } : undefined,
      )
      // Only the clients' own static imports: the protocol's import() still reaches the real codec.
      build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, (args) =>
        args.kind === 'import-statement' && /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]/.test(args.importer)
          ? { path: 'event-streams', namespace: 'troupe-trim', pluginData: { contents: EVENT_STREAMS_SHIM, resolveDir: args.resolveDir } }
          : undefined,
      )
      // The clients troupe's host uses take only Sha256 from the checksum module; the others (S3's Md5) keep the module.
      build.onResolve({ filter: /^@smithy\/core\/checksum$/ }, async (args) => {
        if (args.pluginData === SKIP || !/[\\/]@aws-sdk[\\/]client-(dynamodb|kinesis|lambda)[\\/].*runtimeConfig\.shared\.js$/.test(args.importer)) return undefined
        const real = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: SKIP })
        if (real.errors.length > 0) return { errors: real.errors }
        const contents = `export { Sha256Node as Sha256 } from ${JSON.stringify(join(dirname(real.path), 'sha256', 'Sha256Node.js'))}\n`
        return { path: 'checksum', namespace: 'troupe-trim', pluginData: { contents, resolveDir: args.resolveDir } }
      })
      build.onLoad({ filter: /.*/, namespace: 'troupe-trim' }, (args) => {
        const { contents, resolveDir } = args.pluginData as { contents: string; resolveDir: string }
        return { contents, resolveDir, loader: 'js' }
      })
      build.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ }, async (args) => {
        const { name, version } = JSON.parse(await readFile(args.path, 'utf8')) as { name: string; version: string }
        return { contents: JSON.stringify({ name, version }), loader: 'json' }
      })
    },
  }
}

/**
 * A module loaded on first use from a CommonJS file of its own beside the bundle: its one
 * importer gets a stand-in whose `require` (the bundle's createRequire) loads the file
 * synchronously, as the callers are, the first time it is used.
 */
interface LazyModule {
  specifier: RegExp
  /** The importer that gets the stand-in; other importers get the module itself. */
  importer: RegExp
  /** The file beside the bundle, made from the module with its dependencies. */
  file: string
  shim: string
}

const LAZY_MODULES: LazyModule[] = [
  {
    // Recurring schedules only: troupe's lib/core/recurrence.ts only constructs `Cron`.
    specifier: /^croner$/,
    importer: /[\\/]lib[\\/]core[\\/]recurrence\.[jt]s$/,
    file: 'croner.cjs',
    shim: `// troupe bundle: croner loads from croner.cjs beside the bundle on the first recurring schedule parsed.
let croner
export class Cron {
  constructor(...args) {
    croner ??= require('./croner.cjs')
    return new croner.Cron(...args)
  }
}
`,
  },
  {
    // The DynamoDB client makes its endpoint cache (an LRU from mnemonist) at construction, and
    // uses it only with endpoint discovery, which is off unless configured.
    specifier: /^@aws-sdk\/endpoint-cache$/,
    importer: /[\\/]@aws-sdk[\\/]middleware-endpoint-discovery[\\/]/,
    file: 'endpoint-cache.cjs',
    shim: `// troupe bundle: the endpoint cache loads from endpoint-cache.cjs beside the bundle when endpoint discovery first
// writes to it; until then it is empty, and a read answers as an empty cache does.
let loaded
export class EndpointCache {
  #capacity
  #cache
  constructor(capacity) {
    this.#capacity = capacity
  }
  getEndpoint(key) { return this.#cache?.getEndpoint(key) }
  get(key) { return this.#cache?.get(key) }
  set(key, endpoints) {
    loaded ??= require('./endpoint-cache.cjs')
    this.#cache ??= new loaded.EndpointCache(this.#capacity)
    this.#cache.set(key, endpoints)
  }
  delete(key) { this.#cache?.delete(key) }
  has(key) { return this.#cache?.has(key) ?? false }
  clear() { this.#cache?.clear() }
}
`,
  },
]

/** The lazily loaded modules of {@link LAZY_MODULES}, each written beside the bundle when the build ends. `files` lists what it wrote. */
export function lazyModulesPlugin(): { plugin: Plugin; files: string[] } {
  const files: string[] = []
  const plugin: Plugin = {
    name: 'troupe-lazy-modules',
    setup(build) {
      const used = new Map<LazyModule, string>()
      LAZY_MODULES.forEach((lazy, i) => {
        build.onResolve({ filter: lazy.specifier }, async (args) => {
          if (args.pluginData === SKIP || !lazy.importer.test(args.importer)) return undefined
          const resolved = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: 'require-call', pluginData: SKIP })
          if (resolved.errors.length > 0) return { errors: resolved.errors }
          used.set(lazy, resolved.path)
          return { path: lazy.file, namespace: 'troupe-lazy', pluginData: i }
        })
      })
      build.onLoad({ filter: /.*/, namespace: 'troupe-lazy' }, (args) => ({ contents: LAZY_MODULES[args.pluginData as number]!.shim, loader: 'js' }))
      build.onResolve({ filter: /^\.\/[\w-]+\.cjs$/, namespace: 'troupe-lazy' }, (args) => ({ path: args.path, external: true }))
      build.onEnd(async (result) => {
        if (result.errors.length > 0) return
        const outdir = build.initialOptions.outdir ?? dirname(build.initialOptions.outfile!)
        // In the list's order, not the order esbuild happened to resolve them: the same app makes the same zip.
        for (const lazy of LAZY_MODULES) {
          const real = used.get(lazy)
          if (real === undefined) continue
          const outfile = join(outdir, lazy.file)
          await build.esbuild.build({
            entryPoints: [real],
            outfile,
            bundle: true,
            platform: 'node',
            target: build.initialOptions.target,
            format: 'cjs',
            minify: build.initialOptions.minify,
            legalComments: 'none',
            logLevel: 'silent',
          })
          files.push(outfile)
        }
      })
    },
  }
  return { plugin, files }
}
