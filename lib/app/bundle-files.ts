// The files an app asks its Lambda bundle to carry (`defineApp({ bundle: { files } })`): their
// names are checked when the app is defined; deploy/bundle-files.ts finds and copies them.
import { isAbsolute, normalize, sep } from 'node:path'

/** Path in the bundle → where the file is: relative to the app's folder (`./data.csv`), absolute, or a package path (`sql.js/dist/sql-wasm.wasm`) found in node_modules from the app's folder up. */
export type BundleFiles = Readonly<Record<string, string>>

/** Why `files` cannot be a bundle's files, or undefined when it can. Checks the names only; the sources are found at bundling. */
export function bundleFilesProblem(files: unknown): string | undefined {
  if (files === null || typeof files !== 'object' || Array.isArray(files)) return '`files` must be an object: { "path/in/bundle": "source path" }'
  for (const [name, source] of Object.entries(files)) {
    if (typeof source !== 'string' || source === '') return `files["${name}"] must be a source path (a non-empty string)`
    const inside = normalize(name)
    if (name === '' || isAbsolute(name) || inside.startsWith('..') || inside.split(sep).includes('..')) return `files["${name}"]: the path in the bundle must be relative and stay inside it`
    if (inside === 'index.mjs' || inside === 'entry.mjs' || inside === 'lambda.zip') return `files["${name}"]: that name is the bundle's own`
  }
  return undefined
}
