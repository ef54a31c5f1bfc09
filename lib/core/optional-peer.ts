// troupe's optional peers: packages that only some subpaths or commands need (the AWS SDK
// clients, esbuild, cytoscape, tsx), so that the embedded core installs small. A subpath that
// needs one at import names it in its import statements, and Node's error names the package;
// one loaded later, on first use, goes through loadPeer, whose error says how to install it.
import { TroupeError } from './errors.js'

/** A peer that is not installed: the message names the package, what needed it, and the command. */
export class MissingPeerError extends TroupeError {
  readonly package: string
  constructor(pkg: string, neededFor: string, options?: ErrorOptions) {
    super('TROUPE_MISSING_PEER', `${neededFor} needs the npm package ${pkg}, which is not installed: npm install ${pkg}`, options)
    this.package = pkg
  }
}

/**
 * Loads an optional peer. `load` is the `import()` itself, written out at the call site so that a
 * bundler sees the specifier and includes the package where it is installed.
 *
 * @example
 * const { InvokeCommand } = await loadPeer('@aws-sdk/client-lambda', 'ask by Invoke', () => import('@aws-sdk/client-lambda'))
 */
export async function loadPeer<T>(pkg: string, neededFor: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    // `pkg` itself, not a file inside it nor a dependency of its own.
    if (missingOf(error) === pkg) throw new MissingPeerError(pkg, neededFor, { cause: error })
    throw error
  }
}

/**
 * The package a failed import could not find, if that is why it failed: Node's "Cannot find
 * package 'x'" (ESM) or "Cannot find module 'x'" (CommonJS, a bare name), or a MissingPeerError,
 * looked for along the causes.
 */
export function missingPackage(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof MissingPeerError) return e.package
    const name = missingOf(e)
    if (name !== undefined) return name
  }
  return undefined
}

/**
 * The bare package name in Node's message for an import it could not resolve. The message, not
 * the code: an error that crossed from a loader thread (tsx, a test runner's hooks) may have
 * lost its `code` on the way, never its message.
 */
function missingOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message
  if (typeof message !== 'string') return undefined
  // A package name: no path separators, no drive letter (C:\\…), not relative.
  return /^Cannot find (?:package|module) '((?:@[^/'\\:]+\/)?[^/'.\\:][^/'\\:]*)'/.exec(message)?.[1]
}
