// scripts/pack-manifest.mjs, which writes the package.json `npm pack` puts in the tarball (the
// repository's without its scripts) and puts the repository's back after: run on a copy, through
// a pack that failed between the two and an edit made before the next one.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const SCRIPT = new URL('../../scripts/pack-manifest.mjs', import.meta.url)

function repo(manifest: object) {
  const dir = mkdtempSync(join(tmpdir(), 'pack-manifest-'))
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(SCRIPT, join(dir, 'scripts', 'pack-manifest.mjs'))
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  const step = (name: 'strip' | 'restore') => execFileSync(process.execPath, [join(dir, 'scripts', 'pack-manifest.mjs'), name])
  const read = () => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>
  return { dir, step, read, write: (m: object) => writeFileSync(join(dir, 'package.json'), `${JSON.stringify(m, null, 2)}\n`) }
}

const base = { name: 'troupe', version: '0.1.0', scripts: { prepare: 'node scripts/build.mjs' }, dependencies: { nanoid: '^5' } }

t.test('strip writes the manifest without scripts; restore puts the repository’s back', async (t) => {
  const r = repo(base)
  r.step('strip')
  t.same(r.read(), { name: 'troupe', version: '0.1.0', dependencies: { nanoid: '^5' } })
  r.step('restore')
  t.same(r.read(), base)
  t.notOk(existsSync(join(r.dir, 'package.json.unpacked')), 'no copy left')
})

t.test('after a pack that failed between the two, the next strip starts from the kept copy', async (t) => {
  const r = repo(base)
  r.step('strip') // the pack fails here: no restore
  r.step('strip')
  t.same(r.read(), { name: 'troupe', version: '0.1.0', dependencies: { nanoid: '^5' } })
  r.step('restore')
  t.same(r.read(), base, 'the scripts are back')
})

t.test('a package.json edited after a failed pack is the one packed and kept, with its scripts back', async (t) => {
  const r = repo(base)
  r.step('strip') // the pack fails here: no restore; package.json has no scripts
  const { scripts: _, ...left } = base
  r.write({ ...left, version: '0.2.0', dependencies: { nanoid: '^5', superjson: '^2' } }) // edited as it was left
  r.step('strip')
  t.same(r.read(), { name: 'troupe', version: '0.2.0', dependencies: { nanoid: '^5', superjson: '^2' } }, 'the tarball gets the edit')
  r.step('restore')
  t.same(r.read(), { ...base, version: '0.2.0', dependencies: { nanoid: '^5', superjson: '^2' } }, 'and the repository keeps it, with its scripts')
  t.same(Object.keys(r.read()), Object.keys(base), 'its fields in their order')
})

t.test('a package.json put back (or checked out) after a failed pack is the repository’s, not the stale copy', async (t) => {
  const r = repo(base)
  r.step('strip') // the pack fails here: no restore
  const bumped = { ...base, version: '0.3.0' }
  r.write(bumped)
  r.step('strip')
  t.same(r.read(), { name: 'troupe', version: '0.3.0', dependencies: { nanoid: '^5' } })
  r.step('restore')
  t.same(r.read(), bumped)
})
