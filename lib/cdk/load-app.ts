// The app a TroupeDeployment deploys: the module whose default export is defineApp({ … }), the
// same file `troupe template` and `troupe deploy` take with --app. Importing a module is
// asynchronous and making a construct is not, so the app is loaded first
// (`await loadTroupeApp(file)`) and handed to the construct, which reads its streams, runtime and
// payload bucket from it and bundles its file.
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { appProblem, type App } from '../app/define-app.js'
import { typeScriptRefusal } from '../app/typescript-refusal.js'
import { ConfigError } from '../core/errors.js'
import { s3PayloadBucket } from '../deploy/app-deployment.js'
import type { PayloadBucketSpec } from '../deploy/resources.js'

/** A loaded app, with what a deployment needs to know of it. */
export interface TroupeAppFile {
  /** The app's file, absolute: what the bundle is built from. */
  readonly file: string
  readonly app: App
  /** Its payloads' bucket, when they go to S3PayloadStore: the deployment makes it. */
  readonly payloadBucket: PayloadBucketSpec | undefined
}

/**
 * Imports an app file. TypeScript loads when the CDK app itself runs under a loader that takes it
 * (`tsx app.ts`, as `cdk.json`'s `"app"` usually says).
 *
 * @example
 * const analytics = await loadTroupeApp(new URL('./troupe.app.ts', import.meta.url))
 * new TroupeDeployment(stack, 'Analytics', { app: analytics, name: 'analytics' })
 */
export async function loadTroupeApp(file: string | URL): Promise<TroupeAppFile> {
  const path = file instanceof URL ? fileURLToPath(file) : resolve(file)
  if (!existsSync(path) || statSync(path).isDirectory()) {
    throw new ConfigError(`loadTroupeApp: no app file at ${path}; give the module whose default export is defineApp({ actors: [...] })`)
  }
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown }
  } catch (error) {
    throw appImportError(path, error)
  }
  let app = mod.default
  // A .ts file in a package that is not "type": "module" compiles to CommonJS: the app is one level down.
  if (appProblem(app) !== undefined && typeof app === 'object' && app !== null && 'default' in app) app = (app as { default: unknown }).default
  const problem = appProblem(app)
  if (problem !== undefined) throw new ConfigError(`loadTroupeApp: the default export of ${path} is not an app (export default defineApp({ actors: [...] })): ${problem}`)
  return { file: path, app: app as App, payloadBucket: await s3PayloadBucket(app as App) }
}

/**
 * What to throw when importing the app failed: Node's own error, unless it refused TypeScript
 * because the CDK app does not run under tsx, which its message would not say.
 */
export function appImportError(path: string, error: unknown): unknown {
  const refusal = typeScriptRefusal(path, error)
  if (refusal === undefined) return error
  const why =
    refusal.kind === 'refused'
      ? `${path} is TypeScript that Node cannot load by itself (${refusal.code})`
      : `${path} imports ${refusal.js}, which is not there (its TypeScript source ${refusal.ts} is): Node runs TypeScript without resolving .js imports to .ts`
  return Object.assign(new ConfigError(`loadTroupeApp: ${why}; run the CDK app under tsx (cdk.json: "app": "npx tsx app.ts"; npm install -D tsx)`), { cause: error })
}
