// Builds what the package ships: lib/ and actors/ compiled to dist/ (ESM, declarations and
// their maps), plus the files lib/ uses as they are (a child process's script, a CommonJS
// launcher, the web view's page), copied to the same place under dist/.
import { execFileSync } from 'node:child_process'
import { cpSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

rmSync(out, { recursive: true, force: true })
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
} catch {
  console.error('build: tsc failed (its errors are above); dist/ was not made')
  process.exit(1)
}

// Everything but the TypeScript tsc compiled (cpSync also walks into folders, which do not match).
const COMPILED = /\.(ts|tsx)$/
for (const dir of ['lib', 'actors']) {
  cpSync(join(root, dir), join(out, dir), { recursive: true, filter: (source) => !COMPILED.test(source) })
}
