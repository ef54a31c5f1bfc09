// The package.json that `npm pack` puts in the tarball: this repository's without its scripts.
// Each of them needs files that are not packed (scripts/, test/, examples/, bench/), and npm runs
// `prepare` wherever a folder holding the package is installed (`npm install ./vendor/troupe`, a
// file: dependency), where the build could only fail: the tarball already holds dist/.
//
// `strip` (prepack, after the build) keeps the repository's package.json beside it and writes
// the one to pack; `restore` (postpack) puts the repository's back. A pack that failed between
// the two left the kept copy and the manifest without scripts. The next strip takes that
// manifest (edited since or not: a version bumped, a dependency added) with the kept copy's
// scripts; a manifest with scripts (put back by hand, checked out) is the repository's as it is.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

const manifest = new URL('../package.json', import.meta.url)
const kept = new URL('../package.json.unpacked', import.meta.url)

const json = (value) => `${JSON.stringify(value, null, 2)}\n`

/** The repository's package.json: `current`, with the scripts of a copy a failed pack kept if it has none. */
function repository(text) {
  const current = JSON.parse(text)
  if (current.scripts !== undefined || !existsSync(kept)) return text
  const old = JSON.parse(readFileSync(kept, 'utf8'))
  // In the kept copy's order of fields, the scripts where they were; fields new since at the end.
  const merged = {}
  for (const field of Object.keys(old)) if (field === 'scripts' || field in current) merged[field] = field === 'scripts' ? old.scripts : current[field]
  for (const field of Object.keys(current)) if (!(field in merged)) merged[field] = current[field]
  return json(merged)
}

const step = process.argv[2]
if (step === 'strip') {
  const text = repository(readFileSync(manifest, 'utf8'))
  writeFileSync(kept, text)
  const { scripts: _, ...packed } = JSON.parse(text)
  writeFileSync(manifest, json(packed))
} else if (step === 'restore') {
  if (existsSync(kept)) renameSync(kept, manifest)
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore')
  process.exit(2)
}
