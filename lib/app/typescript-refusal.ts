// Why Node could not import a TypeScript app by itself, for the CLI's --app and troupe/cdk's
// loadTroupeApp: both load a user's .ts app through tsx when the process has it registered, and
// Node's own error would not say that tsx is the fix.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const TYPESCRIPT_FILE = /\.[cm]?ts$/
/** Node's refusals of TypeScript it cannot run itself: in node_modules, or syntax beyond stripping types. */
const TYPE_STRIPPING_CODES = new Set(['ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_INVALID_TYPESCRIPT_SYNTAX'])

/** How Node refused a TypeScript app it ran without tsx. */
export type TypeScriptRefusal =
  /** Before type stripping: an unknown extension; with it: syntax it cannot strip, or TypeScript under node_modules. */
  | { kind: 'refused'; code: string }
  /** Type stripping (22.18+, 24) ran the app but resolves imports as written: `./actors.js` of a NodeNext project is not there, its `.ts` is. */
  | { kind: 'js-import'; js: string; ts: string }

/** Why importing `file` (absolute) failed with `error`, when the reason is that Node ran TypeScript without tsx; else undefined. */
export function typeScriptRefusal(file: string, error: unknown): TypeScriptRefusal | undefined {
  if (!TYPESCRIPT_FILE.test(file)) return undefined
  const { code, message, url } = (error ?? {}) as { code?: unknown; message?: unknown; url?: unknown }
  if (typeof code !== 'string') return undefined
  if ((code === 'ERR_UNKNOWN_FILE_EXTENSION' && /"\.[cm]?ts"/.test(String(message))) || TYPE_STRIPPING_CODES.has(code)) return { kind: 'refused', code }
  if (code !== 'ERR_MODULE_NOT_FOUND') return undefined
  const js = typeof url === 'string' && url.startsWith('file:') ? fileURLToPath(url) : /Cannot find module '([^']+)'/.exec(String(message))?.[1]
  const match = js === undefined ? null : /^(.*)\.([cm]?)js$/.exec(js)
  if (js === undefined || match === null) return undefined
  const ts = `${match[1]}.${match[2]}ts`
  return existsSync(ts) ? { kind: 'js-import', js, ts } : undefined
}
