// A wrong join actor is a compile error whose text says why: the brand property's name, as tsc
// prints it. tsc escapes a non-ASCII character in a quoted property name when it prints a type
// (… became \u2026), so the names are ASCII.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const LIB = fileURLToPath(new URL('../../lib/index.js', import.meta.url))

const SOURCE = `import { Actor, pipeline, type Context, type Joined } from ${JSON.stringify(LIB)}
class A extends Actor<{ a: string }, number> { static readonly type = 'a'; receive() { return 1 } }
class B extends Actor<{ b: string }, string> { static readonly type = 'b'; receive() { return '' } }
class Wrong extends Actor<{ x: number }> { static readonly type = 'wrong'; receive() {} }
class Fork extends Actor<{ a: string; b: string }> {
  static readonly type = 'fork'
  receive(msg: Fork['In'], ctx: Context) {
    ctx.fork([[A, { a: msg.a }], [B, { b: msg.b }]] as const).join(Wrong, { timeoutMs: 1, value: msg })
  }
}
class Start extends Actor<{ a: string }, { a: string; b: string }> { static readonly type = 'start'; receive(m: Start['In']) { return { a: m.a, b: m.a } } }
class A2 extends Actor<{ a: string; b: string }, number> { static readonly type = 'a2'; receive() { return 1 } }
class B2 extends Actor<{ a: string; b: string }, string> { static readonly type = 'b2'; receive() { return '' } }
export const p = pipeline('p').from(Start).fork(A2, B2).join(Wrong, { timeoutMs: 1 })
export type Unused = Joined<[typeof A], null>
`

t.test("a wrong join actor or stage: tsc's message names why in plain text", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-join-text-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'wrong.ts')
  writeFileSync(file, SOURCE)
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  })
  const messages = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  t.equal(messages.length, 2, messages.join('\n---\n'))
  t.match(messages[0], "'join actor does not take Joined<...> of this fork'")
  t.match(messages[1], "'join stage does not take Joined<...> of this fork'")
  for (const m of messages) t.notMatch(m, /\\u[0-9a-f]{4}/i, 'no escaped characters in the message')
})
