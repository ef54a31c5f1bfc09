// loadTroupeApp of a TypeScript app in a CDK app that Node runs without tsx: the error says so
// and names tsx, instead of Node's own (an unknown extension, or a module not found).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { appImportError } from '../../lib/cdk/load-app.js'
import { ConfigError } from '../../lib/core/errors.js'

t.test('loadTroupeApp of a .ts app in a CDK app not run under tsx: says so, naming tsx', async (t) => {
  const dir = t.testdir({ 'actors.ts': 'export const actors = []\n' })
  const app = join(dir, 'troupe.app.ts')
  // Node 20 refuses .ts; Node 22.18+ and 24 strip types but do not resolve ./actors.js to actors.ts.
  const unknownExtension = Object.assign(new TypeError(`Unknown file extension ".ts" for ${app}`), { code: 'ERR_UNKNOWN_FILE_EXTENSION' })
  const jsImport = Object.assign(new Error(`Cannot find module '${join(dir, 'actors.js')}' imported from ${app}`), {
    code: 'ERR_MODULE_NOT_FOUND',
    url: pathToFileURL(join(dir, 'actors.js')).href,
  })
  for (const error of [unknownExtension, jsImport]) {
    const thrown = appImportError(app, error)
    t.ok(thrown instanceof ConfigError, error.message)
    t.match((thrown as Error).message, /^\[TROUPE_CONFIG\] loadTroupeApp: .*troupe\.app\.ts .*; run the CDK app under tsx \(cdk\.json: "app": "npx tsx app\.ts"; npm install -D tsx\)$/)
    t.equal((thrown as Error).cause, error, "Node's error is its cause")
  }
  const other = new Error('boom')
  t.equal(appImportError(app, other), other, 'any other failure is thrown as it came')
  t.equal(appImportError(join(dir, 'troupe.app.mjs'), unknownExtension), unknownExtension, 'a JavaScript app is not told about tsx')
  const gone = Object.assign(new Error('x'), { code: 'ERR_MODULE_NOT_FOUND', url: pathToFileURL(join(dir, 'gone.js')).href })
  t.equal(appImportError(app, gone), gone, 'a missing module with no .ts beside it is thrown as it came')
})
