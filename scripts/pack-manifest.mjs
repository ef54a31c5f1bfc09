// The package.json that `npm pack` puts in the tarball: this repository's without its scripts.
// Each of them needs files that are not packed (scripts/, test/, examples/, bench/), and npm runs
// `prepare` wherever a folder holding the package is installed (`npm install ./vendor/troupe`, a
// file: dependency), where the build could only fail: the tarball already holds dist/.
//
// `strip` (prepack, after the build) keeps the repository's package.json beside it and writes
// the one to pack; `restore` (postpack) puts the repository's back. A pack that failed between
// the two left the kept copy: strip starts from it, so the repository's is never lost.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

const manifest = new URL('../package.json', import.meta.url)
const kept = new URL('../package.json.unpacked', import.meta.url)

const step = process.argv[2]
if (step === 'strip') {
  if (!existsSync(kept)) writeFileSync(kept, readFileSync(manifest))
  const { scripts: _, ...packed } = JSON.parse(readFileSync(kept, 'utf8'))
  writeFileSync(manifest, `${JSON.stringify(packed, null, 2)}\n`)
} else if (step === 'restore') {
  if (existsSync(kept)) renameSync(kept, manifest)
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore')
  process.exit(2)
}
