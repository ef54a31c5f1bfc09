// The host function's code when the construct is given none: troupe's own bundle of the app, as
// `troupe deploy` builds it (`troupe bundle`: the actors with the Lambda host, minified ESM for the
// runtime's Node, zipped with the app's `files`), as a zip asset. A construct is made
// synchronously and esbuild's plugins are not, so `troupe bundle` runs in a child process, as the
// CDK's own NodejsFunction runs esbuild. The zip has no timestamps: the same code makes the same
// asset hash, and an unchanged app leaves the function unchanged.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { Code } from 'aws-cdk-lib/aws-lambda'
import { TroupeError } from '../core/errors.js'
import type { LambdaRuntime } from '../platform/lambda-runtime.js'

/** troupe runs from its TypeScript sources (this repository's tests): the child must too. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

/** Bundles `appFile` into `outDir` for `runtime`, and returns the zip as the function's code. */
export function bundledCode(appFile: string, options: { runtime: LambdaRuntime; outDir: string }): Code {
  const bin = join(dirname(createRequire(import.meta.url).resolve('troupe/package.json')), 'bin', 'troupe.js')
  const args = [...(FROM_SOURCE ? ['--conditions=troupe-source'] : []), bin, 'bundle', '--app', appFile, '--out-dir', resolve(options.outDir), '--runtime', options.runtime, '--json']
  const ran = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  if (ran.error) throw new TroupeError('TROUPE_BUNDLE', `troupe/cdk: could not run troupe bundle for ${appFile}: ${ran.error.message}`, { cause: ran.error })
  if (ran.status !== 0) {
    throw new TroupeError('TROUPE_BUNDLE', `troupe/cdk: troupe bundle --app ${appFile} failed (exit ${ran.status}): ${ran.stderr.trim().split('\n').slice(-5).join(' ')}`)
  }
  const report = JSON.parse(ran.stdout) as { zipfile: string }
  return Code.fromAsset(report.zipfile)
}
