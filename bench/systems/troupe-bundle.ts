// W6, the cold start of the Lambda host for the flagship example (examples/analytics): the bundle
// `troupe bundle` makes (minified, the SDK inside, the credential chain trimmed to the
// environment, rarely used paths in chunks loaded on first use) and its module init, as a Lambda
// cold start pays it: a fresh Node process imports the bundle's entry with a Lambda's
// environment, once per run, which loads the entry and the chunks it imports statically.
// Sizes: `init_kb` is what that import loads (the size target is judged on it), `bundle_kb` all
// the files the zip holds.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBundle, measureInit } from '../../lib/deploy/bundle.js'
import { median } from '../harness.js'
import type { BenchSystem } from './system.js'

const APP = fileURLToPath(new URL('../../examples/analytics/troupe.app.ts', import.meta.url))

export const troupeBundle: BenchSystem = {
  name: 'troupe-bundle',
  notes: {
    W6: 'buildBundle({ app: examples/analytics/troupe.app.ts }) as `troupe bundle` does (minified ESM, AWS SDK inside, credentials from the environment, rarely used paths in chunks); then measureInit: per run a fresh `node` of the runtime (Node 24 for nodejs24.x) imports the entry (await import(), timed inside the process, with every chunk it imports statically) with a Lambda environment. init_kb: the entry and those chunks (the target); bundle_kb: every file of the bundle',
  },

  async W6(runs) {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-bundle-'))
    try {
      const built = await buildBundle({ app: APP, outDir: dir })
      const init = await measureInit(built.outfile, { runs, runtime: built.runtime })
      return {
        init_kb: Math.round((built.initBytes / 1024) * 10) / 10,
        bundle_kb: Math.round((built.bytes / 1024) * 10) / 10,
        bundle_files: built.bundleFiles.length,
        zip_kb: Math.round((built.zipBytes / 1024) * 10) / 10,
        bundle_ms: built.ms,
        init_ms: Math.round(median(init.runs) * 10) / 10,
        init_min_ms: Math.min(...init.runs),
        init_max_ms: Math.max(...init.runs),
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  },
}
