// Files a Lambda bundle carries beside `index.mjs`: data a module reads at run time (a wasm
// binary found next to the module, a CSV resolved from node_modules), which bundling cannot
// inline. Each is copied into the bundle's folder and the zip under the path it is given, so
// the function finds it where the code looks for it, as `troupe dev` does.
import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path'
import { bundleFilesProblem, type BundleFiles } from '../app/bundle-files.js'
import { ConfigError } from '../core/errors.js'
import type { ZipEntry } from './zip.js'

/** Where a file's source is, from the app's folder; throws naming the file when it is not there. */
export function locateBundleFile(name: string, source: string, appDir: string): string {
  const candidates = source.startsWith('.') || isAbsolute(source) ? [resolve(appDir, source)] : ancestors(appDir).map((dir) => join(dir, 'node_modules', source))
  const found = candidates.find((file) => existsSync(file) && statSync(file).isFile())
  if (found === undefined) throw new ConfigError(`files["${name}"]: ${source} is not a file (looked at ${candidates.slice(0, 3).join(', ')}${candidates.length > 3 ? ', …' : ''})`)
  return found
}

/** Copies the files beside the bundle in `outDir` and returns them as zip entries. */
export async function copyBundleFiles(files: BundleFiles, appDir: string, outDir: string): Promise<ZipEntry[]> {
  const problem = bundleFilesProblem(files)
  if (problem !== undefined) throw new ConfigError(problem)
  const entries: ZipEntry[] = []
  for (const [name, source] of Object.entries(files)) {
    const from = locateBundleFile(name, source, appDir)
    const to = join(outDir, normalize(name))
    await mkdir(dirname(to), { recursive: true })
    await copyFile(from, to)
    // Zip paths use forward slashes on every system.
    entries.push({ name: normalize(name).split(sep).join('/'), data: await readFile(from) })
  }
  return entries
}

function ancestors(dir: string): string[] {
  const out: string[] = []
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d)
    if (dirname(d) === d) return out
  }
}
