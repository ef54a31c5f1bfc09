// bundleHandler: code reached only through import() goes into a chunk beside the entry, which
// the entry loads when that path first runs; `initBytes` counts what importing the entry loads.
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { bundleHandler } from '../../lib/deploy/bundle-handler.js'

t.test('a path reached through import() is a chunk of its own, not loaded at init', async (t) => {
  const dir = t.testdir({
    'entry.mjs': `import { greet } from './greet.mjs'
export const handler = async (event) => event.rare ? (await import('./rare.mjs')).rare(event.rare) : greet(event.name)
`,
    'greet.mjs': `export const greet = (name) => 'hello ' + name\n`,
    'rare.mjs': `export const rare = (x) => 'a rarely used path: ' + x + ' ' + ${JSON.stringify('x'.repeat(2000))}.length\n`,
  })
  const out = join(dir, 'out', 'host.mjs')
  const built = await bundleHandler({ entry: join(dir, 'entry.mjs'), outfile: out })
  t.equal(built.outfile, out)
  t.equal(built.files[0], out, 'the entry first')
  t.ok(built.files.length >= 2, 'and its chunks')
  t.ok(built.files.every((f) => dirname(f) === dirname(out)), 'beside it')
  for (const chunk of built.files.slice(1)) t.match(basename(chunk), /^chunk-[A-Z0-9]+\.mjs$/)
  const text = (f: string) => readFileSync(f, 'utf8')
  const rare = built.files.filter((f) => text(f).includes('a rarely used path'))
  t.same(rare.length, 1, 'the rare path is in one file')
  t.not(rare[0], out, 'a chunk, not the entry')
  t.equal(built.bytes, built.files.reduce((n, f) => n + readFileSync(f).length, 0), 'bytes: every file')
  t.equal(built.initBytes, built.bytes - readFileSync(rare[0]!).length, "initBytes: all but the rare path's chunk, which the entry imports only through import()")

  const { handler } = (await import(pathToFileURL(out).href)) as { handler: (e: object) => Promise<string> }
  t.equal(await handler({ name: 'you' }), 'hello you')
  t.equal(await handler({ rare: 'y' }), 'a rarely used path: y 2000', 'the chunk loads when its path runs')
})

t.test('an outfile needs an extension, which its chunks take too', async (t) => {
  const dir = t.testdir({ 'entry.mjs': 'export const handler = async () => 1\n' })
  await t.rejects(bundleHandler({ entry: join(dir, 'entry.mjs'), outfile: join(dir, 'out', 'host') }), {
    code: 'TROUPE_BUNDLE',
    message: /the outfile .*host needs an extension \(\.mjs\)/,
  })
})
