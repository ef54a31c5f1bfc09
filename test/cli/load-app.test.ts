// Loading an app: a TypeScript app Node cannot load by itself (tsx not installed) is said as
// such, naming the file and `npm install -D tsx` (exit 2); any other failure keeps its own message.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { appLoadError } from '../../lib/cli/load-app.js'

/** What this Node throws importing `file` with nothing registered (no tsx): its name, code and message. */
function nodeOwnError(file: string): { name: string; code?: string; message: string } {
  const script = `import(${JSON.stringify(pathToFileURL(file).href)}).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })))`
  const env = { ...process.env }
  delete env.NODE_OPTIONS // the test runner's loaders (tsx among them) stay out of the child
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })
  return JSON.parse(run.stdout) as { name: string; code?: string; message: string }
}

t.test("a .ts app this Node refuses without tsx: the file and the fix", async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'troupe.app.ts')
  // An enum: beyond what Node's type stripping (22.18+, 24) runs without tsx.
  writeFileSync(file, 'enum Mode { A }\nexport default { actors: [], mode: Mode.A as number }\n')
  const refused = nodeOwnError(file)
  t.ok(refused.code, `Node refused it: ${refused.code} ${refused.message}`)
  const error = appLoadError(file, 'troupe.app.ts', Object.assign(new Error(refused.message), refused))
  t.equal(error.exitCode, 2, 'a missing package, as a missing peer is: exit 2')
  t.match(error.message, /^troupe\.app\.ts is TypeScript that Node cannot load by itself \(ERR_[A-Z_]+\); troupe loads TypeScript with tsx: npm install -D tsx \(or write the app in JavaScript\)$/)
})

t.test('each refusal of TypeScript maps; other failures, and other files, keep their message', async (t) => {
  const fabricated = (code: string, message: string) => Object.assign(new Error(message), { code })
  const typescript = [
    fabricated('ERR_UNKNOWN_FILE_EXTENSION', 'Unknown file extension ".ts" for /p/app.ts'),
    fabricated('ERR_UNKNOWN_FILE_EXTENSION', 'Unknown file extension ".mts" for /p/lib/actors.mts'),
    fabricated('ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING', 'Stripping types is currently unsupported for files under node_modules'),
    Object.assign(new SyntaxError('TypeScript enum is not supported in strip-only mode'), { code: 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' }),
    Object.assign(new SyntaxError('x'), { code: 'ERR_INVALID_TYPESCRIPT_SYNTAX' }),
  ]
  for (const file of ['/p/app.ts', '/p/app.mts', '/p/app.cts']) {
    for (const error of typescript) t.match(appLoadError(file, 'app', error).message, /npm install -D tsx/, `${file}: ${(error as { code: string }).code}`)
  }
  const css = fabricated('ERR_UNKNOWN_FILE_EXTENSION', 'Unknown file extension ".css" for /p/style.css')
  t.equal(appLoadError('/p/app.ts', 'app.ts', css).message, 'app.ts failed to load: Unknown file extension ".css" for /p/style.css', 'not a TypeScript file')
  t.equal(appLoadError('/p/app.js', 'app.js', typescript[0]).message, 'app.js failed to load: Unknown file extension ".ts" for /p/app.ts', 'a JavaScript app is not told to install tsx')
  t.equal(appLoadError('/p/app.ts', 'app.ts', new Error('boom')).message, 'app.ts failed to load: boom')
})

t.test("a .ts app whose .js import is a .ts file (Node's type stripping, no tsx): the file and the fix", async (t) => {
  const dir = t.testdir({ 'actors.ts': 'export const actors = []\n', 'other.mts': 'export {}\n' })
  const app = join(dir, 'troupe.app.ts')
  // What Node 22.18+ and 24 throw for `import { actors } from './actors.js'` in a .ts app run by type stripping.
  const notFound = (path: string) =>
    Object.assign(new Error(`Cannot find module '${path}' imported from ${app}`), { code: 'ERR_MODULE_NOT_FOUND', url: pathToFileURL(path).href })
  const error = appLoadError(app, 'troupe.app.ts', notFound(join(dir, 'actors.js')))
  t.equal(error.exitCode, 2, 'a missing package: exit 2')
  t.equal(
    error.message,
    `troupe.app.ts imports ${join(dir, 'actors.js')}, which is not there (its TypeScript source ${join(dir, 'actors.ts')} is): Node runs TypeScript without resolving .js imports to .ts; troupe loads TypeScript with tsx: npm install -D tsx`,
  )
  const byMessage = Object.assign(new Error(`Cannot find module '${join(dir, 'other.mjs')}' imported from ${app}`), { code: 'ERR_MODULE_NOT_FOUND' })
  t.match(appLoadError(app, 'troupe.app.ts', byMessage).message, /other\.mts is\).*npm install -D tsx$/, 'a .mjs import of a .mts file, named only in the message')
  t.equal(appLoadError(app, 'troupe.app.ts', notFound(join(dir, 'gone.js'))).exitCode, 1, 'no .ts beside it: a file that is missing, as Node says')
  t.equal(appLoadError(join(dir, 'troupe.app.js'), 'troupe.app.js', notFound(join(dir, 'actors.js'))).exitCode, 1, 'a JavaScript app is not told to install tsx')
})

t.test('without --app, the first of troupe.app.ts, .mts, .js, .mjs in the working folder; troupe.app.ts named when none is there', async (t) => {
  const { defaultApp } = await import('../../lib/cli/load-app.js')
  const dir = t.testdir()
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  t.equal(defaultApp(), './troupe.app.ts', 'none: the one a message names')
  writeFileSync(join(dir, 'troupe.app.js'), 'export default {}\n')
  t.equal(defaultApp(), './troupe.app.js')
  writeFileSync(join(dir, 'troupe.app.mjs'), 'export default {}\n')
  t.equal(defaultApp(), './troupe.app.js', '.js before .mjs')
  writeFileSync(join(dir, 'troupe.app.ts'), 'export default {}\n')
  t.equal(defaultApp(), './troupe.app.ts', '.ts first')
})
