// Loading a user's app (`--app`) for dev, bundle, template, graph and deploy: the module's
// default export, checked to be an app. A missing or malformed app is a usage error (exit 2), as
// is a TypeScript app without tsx to load it (a missing package); one that throws as it loads is
// a failure (exit 1) naming the file.
import { existsSync, statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { appProblem, type App } from '../app/define-app.js'
import { typeScriptRefusal } from '../app/typescript-refusal.js'
import { CliError, messageOf, UsageError } from './cli-error.js'

/** The app files looked for when no --app is given, in this order. */
const DEFAULT_APPS = ['./troupe.app.ts', './troupe.app.mts', './troupe.app.js', './troupe.app.mjs']

/** How a command's help names the default app: `(default ./troupe.app.ts, or .mts, .js, .mjs)`. */
export const DEFAULT_APP_HELP = `(default ${DEFAULT_APPS[0]}, or ${DEFAULT_APPS.slice(1)
  .map((f) => f.slice(f.lastIndexOf('.')))
  .join(', ')})`

/** The app a command loads without --app: the first of DEFAULT_APPS in the working folder (the first named when there is none). */
export function defaultApp(): string {
  return DEFAULT_APPS.find((f) => existsSync(f)) ?? DEFAULT_APPS[0]!
}

/**
 * Imports `file` (absolute) and returns its app. `given` is the path as the user wrote it (said
 * when there is no app there), `shown` the path said otherwise (default: `given`).
 */
export async function loadApp(file: string, names: { given: string; shown?: string }): Promise<App> {
  const { given, shown = given } = names
  let isFolder: boolean
  try {
    isFolder = statSync(file).isDirectory()
  } catch {
    throw new UsageError(`no app at ${given}: write it (export default defineApp({ actors: [...] })) or give its path with --app <file>`)
  }
  if (isFolder) throw new UsageError(`--app ${shown} is a folder, not the app's file`)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (error) {
    throw appLoadError(file, shown, error)
  }
  if (!('default' in mod)) throw new CliError(`${shown} has no default export: end it with export default defineApp({ actors: [...] })`, 2)
  let app = mod.default
  // A .ts file in a package that is not "type": "module" compiles to CommonJS, whose exports
  // arrive as the default: the app is one level down.
  if (appProblem(app) !== undefined && typeof app === 'object' && app !== null && 'default' in app) app = (app as { default: unknown }).default
  const problem = appProblem(app)
  if (problem !== undefined) throw new CliError(`${shown}: the default export is not an app: ${problem}`, 2)
  return app as App
}

/**
 * Why importing the app failed, as the CliError to throw. troupe loads TypeScript with tsx when
 * tsx is installed; without it Node refuses a .ts app (before type stripping: an unknown
 * extension; with it: syntax it cannot strip, TypeScript under node_modules, or a `./x.js` import
 * of a .ts file), and its own message would not say that installing tsx is the fix.
 */
export function appLoadError(file: string, shown: string, error: unknown): CliError {
  const refusal = typeScriptRefusal(file, error)
  if (refusal?.kind === 'refused') {
    return new CliError(`${shown} is TypeScript that Node cannot load by itself (${refusal.code}); troupe loads TypeScript with tsx: npm install -D tsx (or write the app in JavaScript)`, 2, { cause: error })
  }
  if (refusal?.kind === 'js-import') {
    return new CliError(
      `${shown} imports ${refusal.js}, which is not there (its TypeScript source ${refusal.ts} is): Node runs TypeScript without resolving .js imports to .ts; troupe loads TypeScript with tsx: npm install -D tsx`,
      2,
      { cause: error },
    )
  }
  return new CliError(`${shown} failed to load: ${messageOf(error)}`, 1, { cause: error })
}
