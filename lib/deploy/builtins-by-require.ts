// Node's built-in modules, imported by the bundle's ESM code, are loaded with `require` (the
// banner's, lib/deploy/bundle-handler.ts). An ESM `import` of a built-in makes Node build the
// module's ESM facade, which reads every export once; on Node 24 `node:http`'s exports include
// getters that load Node's copy of undici (WebSocket and its events): 30 ms or so of the
// flagship's cold start (bench/README.md, W6). `require` reads only what the code uses, when it
// uses it.
//
// `import()` is left as it is: it resolves to the module's namespace, named exports included,
// and with code splitting esbuild puts a CommonJS stand-in in a chunk of its own whose namespace
// has only `default` (`const { request } = await import('node:https')` would be undefined). The
// SDK imports `node:http` that way only for an `http://` endpoint (a local server), never for
// AWS's. A module that re-exports a built-in (`export * from 'node:x'`) loses those names.
import { isBuiltin } from 'node:module'
import type { Plugin } from 'esbuild'

const NAMESPACE = 'troupe-builtin'

/** Turns `import … from 'node:x'` of a built-in into a `require('node:x')` the bundle shares. */
export function builtinsByRequirePlugin(): Plugin {
  return {
    name: 'troupe-builtins-by-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, (args) => {
        // Every `node:` path is a built-in, also one newer than the Node that bundles.
        if (args.kind !== 'import-statement' || !(args.path.startsWith('node:') || isBuiltin(args.path))) return undefined
        return { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: NAMESPACE }
      })
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)})`,
        loader: 'js',
      }))
    },
  }
}
