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
// - the crc32 and pure-JS sha256 the clients' checksum import brings along (and node:zlib);
// - the clients' package.json, of which the SDK reads the version;
// - croner, for recurring schedules: loaded on the first one parsed (below).
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
      // The clients troupe's host uses take only Sha256 from the checksum module: the native one, as Node always has sha256.
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

/** The file beside the bundle that holds croner, loaded on the first recurring schedule parsed. */
export const LAZY_CRONER_FILE = 'croner.cjs'

const CRONER_SHIM = `// troupe bundle: croner loads from ${LAZY_CRONER_FILE} beside the bundle on the first recurring schedule parsed,
// not at every cold start. require (the bundle's createRequire) loads it synchronously, as parseRecurrence is.
let croner
export class Cron {
  constructor(...args) {
    croner ??= require('./${LAZY_CRONER_FILE}')
    return new croner.Cron(...args)
  }
}
`

/**
 * croner as a CommonJS file of its own beside the bundle (troupe's lib/core/recurrence.ts, the
 * one importer, only constructs `Cron`), written when the build ends. `files` lists what it wrote.
 */
export function lazyCronerPlugin(): { plugin: Plugin; files: string[] } {
  const files: string[] = []
  const plugin: Plugin = {
    name: 'troupe-lazy-croner',
    setup(build) {
      let real: string | undefined
      build.onResolve({ filter: /^croner$/ }, async (args) => {
        if (args.pluginData === SKIP || !/[\\/]lib[\\/]core[\\/]recurrence\.ts$/.test(args.importer)) return undefined
        const resolved = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: 'require-call', pluginData: SKIP })
        if (resolved.errors.length > 0) return { errors: resolved.errors }
        real = resolved.path
        return { path: 'croner', namespace: 'troupe-lazy-croner' }
      })
      build.onLoad({ filter: /.*/, namespace: 'troupe-lazy-croner' }, () => ({ contents: CRONER_SHIM, loader: 'js' }))
      build.onResolve({ filter: new RegExp(`^\\./${LAZY_CRONER_FILE.replace('.', '\\.')}$`), namespace: 'troupe-lazy-croner' }, (args) => ({ path: args.path, external: true }))
      build.onEnd(async (result) => {
        if (real === undefined || result.errors.length > 0) return
        const outfile = join(build.initialOptions.outdir ?? dirname(build.initialOptions.outfile!), LAZY_CRONER_FILE)
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
      })
    },
  }
  return { plugin, files }
}
