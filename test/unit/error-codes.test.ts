// The error codes are one list (lib/core/error-codes.ts): every code the source raises is in it,
// every code in it is raised, docs/errors.md states each one as the list does, and each class it
// names raises that code and is exported where the list says. Reads files only: no servers, and
// no import of the hosts, so it runs while any of them is mid-change.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorCodes, type ErrorCode, type ErrorCodeInfo } from '../../lib/core/error-codes.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const LIST_FILE = 'lib/core/error-codes.ts'
const DOC_FILE = 'docs/errors.md'

/**
 * `TROUPE_` names in the source that are not error codes, each with why. A code that is only
 * mentioned (in a comment, say) and never raised belongs here too, or in the list.
 */
const NOT_CODES: Record<string, string> = {
  TROUPE_TABLE: 'environment: the table of a Lambda host',
  TROUPE_STREAM: 'environment: the default stream of a Lambda host',
  TROUPE_LOG_LEVEL: 'environment: the log level of a Lambda host',
  TROUPE_TRACE_SAMPLE_RATE: 'environment: the share of requests whose traces a Lambda host keeps whole',
  TROUPE_UI_TOKEN: 'environment: the inspection token of troupe ui and inspect',
  TROUPE_LAMBDA_BUNDLE: 'environment, and the define of a bundle: code runs inside a Lambda bundle',
  TROUPE_LAMBDA_NODE_: 'environment: TROUPE_LAMBDA_NODE_<major>, a Node binary for a runtime (written as a prefix)',
  TROUPE_LAMBDA_NODE_24: 'environment: TROUPE_LAMBDA_NODE_<major>, given as an example',
}

/**
 * Codes that have a class, still raised as a bare `new TroupeError(code, …)` in files that are
 * being changed elsewhere, with how many such sites each has. Each number only goes down: a new
 * bare site fails, and so does a fixed one until its number here is lowered.
 */
const BARE_PENDING: Partial<Record<ErrorCode, number>> = {}

const codes = Object.keys(errorCodes) as ErrorCode[]
const info = (code: ErrorCode): ErrorCodeInfo => errorCodes[code]

const SOURCE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'])
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`
    if (e.isDirectory()) return sourceFiles(path)
    return SOURCE.has(extname(e.name)) ? [path] : []
  })
}
const files = new Map([...sourceFiles('lib'), ...sourceFiles('actors')].map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]))
const others = [...files].filter(([f]) => f !== LIST_FILE)

/** A `TROUPE_` name on its own: not the tail of a longer name such as the `__TROUPE_TOKEN__` placeholder. */
const NAME = /(?<![\w$])TROUPE_[A-Z0-9_]+/g

/** The row of the table in docs/errors.md that states `code`. */
function row(code: ErrorCode): string {
  const { class: name, from, meaning, remedy } = info(code)
  const cls = name === undefined ? '—' : `\`${name}\` (${from === undefined ? 'internal' : `\`${from}\``})`
  return `| \`${code}\` | ${cls} | ${meaning} | ${remedy} |`
}

t.test('the list is sorted, and each entry fits on one table row', async (t) => {
  t.same(codes, [...codes].sort(), 'codes in alphabetical order')
  for (const code of codes) {
    const { class: name, from, meaning, remedy } = info(code)
    for (const text of [meaning, remedy]) t.notMatch(text, /[|\n]/, `${code}: no | or line break in ${JSON.stringify(text)}`)
    if (from !== undefined) t.ok(name, `${code}: from names where its class is exported, so it needs a class`)
  }
})

t.test('every TROUPE_ name in lib/ and actors/ is a listed code, or an explained exception', async (t) => {
  const listed = new Set<string>(codes)
  const unknown: string[] = []
  for (const [file, text] of others) {
    for (const m of text.matchAll(NAME)) {
      if (!listed.has(m[0]) && !(m[0] in NOT_CODES)) unknown.push(`${file}: ${m[0]}`)
    }
  }
  t.same(unknown, [], 'add each to lib/core/error-codes.ts and docs/errors.md (or, if it is no code, to NOT_CODES)')
  for (const name of Object.keys(NOT_CODES)) {
    t.notOk(listed.has(name), `${name} is in NOT_CODES and in the list`)
    t.ok(others.some(([, text]) => [...text.matchAll(NAME)].some((m) => m[0] === name)), `${name} in NOT_CODES still appears in the source`)
  }
})

t.test('every listed code is raised or checked somewhere in the source', async (t) => {
  for (const code of codes) {
    const at = others.filter(([, text]) => [...text.matchAll(NAME)].some((m) => m[0] === code)).map(([f]) => f)
    t.not(at.length, 0, `${code} appears outside the list`)
  }
})

t.test('docs/errors.md states every code once, as the list does, and no other', async (t) => {
  const doc = readFileSync(join(ROOT, DOC_FILE), 'utf8')
  const rows = doc.split('\n').filter((l) => /^\|\s*`TROUPE_/.test(l))
  const documented = rows.map((l) => /^\|\s*`(TROUPE_[A-Z0-9_]+)`/.exec(l)![1]!)
  const listed = new Set<string>(codes)
  t.same(
    codes.filter((c) => !documented.includes(c)),
    [],
    `codes of the list missing from ${DOC_FILE}`,
  )
  t.same(
    documented.filter((c) => !listed.has(c)),
    [],
    `codes in ${DOC_FILE} that are not in the list`,
  )
  t.same(
    documented.filter((c, i) => documented.indexOf(c) !== i),
    [],
    `codes stated twice in ${DOC_FILE}`,
  )
  // The list is the source: each row says what its entry says, in the list's order.
  t.same(rows, codes.map(row), `${DOC_FILE}'s table, row for row, from ${LIST_FILE}`)
})

/** Every class that extends TroupeError, directly or through another, with the file it is in. */
function troupeErrorClasses(): Map<string, string> {
  const found = new Map<string, string>([['TroupeError', 'lib/core/errors.ts']])
  const declarations = others.flatMap(([file, text]) => [...text.matchAll(/\bclass\s+(\w+)\s+extends\s+(\w+)/g)].map((m) => ({ file, name: m[1]!, parent: m[2]! })))
  for (let grew = true; grew; ) {
    grew = false
    for (const d of declarations) {
      if (!found.has(d.name) && found.has(d.parent)) {
        found.set(d.name, d.file)
        grew = true
      }
    }
  }
  found.delete('TroupeError')
  return found
}

/** The names an entry point's source file exports. */
function exportsOf(entry: string): Set<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { 'troupe-source'?: string }> }
  const subpath = entry === 'troupe' ? '.' : `./${entry.slice('troupe/'.length)}`
  const file = pkg.exports[subpath]?.['troupe-source']
  if (file === undefined) return new Set()
  const text = readFileSync(join(ROOT, file), 'utf8')
  const names = new Set<string>()
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()
      if (name) names.add(name)
    }
  }
  for (const m of text.matchAll(/export\s+(?:abstract\s+)?class\s+(\w+)/g)) names.add(m[1]!)
  return names
}

t.test('each class in the list raises its code, and is exported where the list says', async (t) => {
  const classes = troupeErrorClasses()
  for (const code of codes) {
    const { class: name, from } = info(code)
    if (name === undefined) continue
    const file = classes.get(name)
    if (!t.ok(file, `${code}: ${name} is a class that extends TroupeError`)) continue
    t.match(files.get(file!)!, code, `${code}: ${name}'s file (${file}) names the code`)
    if (from !== undefined) t.ok(exportsOf(from).has(name), `${code}: ${name} is exported from ${from}`)
  }
  const named = new Set(codes.map((c) => info(c).class))
  t.same(
    [...classes.keys()].filter((c) => !named.has(c)),
    [],
    'every TroupeError subclass is named in the list, by the code it raises',
  )
})

t.test('a code with a class is raised by that class, not as a bare TroupeError', async (t) => {
  const bare = new Map<string, string[]>()
  for (const [file, text] of others) {
    for (const m of text.matchAll(/new\s+TroupeError\(\s*(['"`])(TROUPE_[A-Z0-9_]+)\1/g)) {
      const code = m[2] as ErrorCode
      if (errorCodes[code] !== undefined && info(code).class !== undefined) bare.set(code, [...(bare.get(code) ?? []), file])
    }
  }
  for (const code of new Set([...bare.keys(), ...Object.keys(BARE_PENDING)]) as Set<ErrorCode>) {
    const sites = bare.get(code) ?? []
    t.equal(sites.length, BARE_PENDING[code] ?? 0, `${code} raised bare at ${sites.join(', ') || 'no site'}: use ${info(code).class}`)
  }
})
