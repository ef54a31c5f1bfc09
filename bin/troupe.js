#!/usr/bin/env node
// The `troupe` command. troupe ships TypeScript, so this registers tsx (TypeScript for `import`
// and for `require`: an app's .ts file outside a "type": "module" package compiles to CommonJS)
// and hands the arguments to lib/cli/main.ts.
import { register as registerRequire } from 'tsx/cjs/api'
import { register as registerImport } from 'tsx/esm/api'

registerRequire()
registerImport()
let code
try {
  const { main } = await import('../lib/cli/main.ts')
  code = await main(process.argv.slice(2))
} catch (error) {
  process.stderr.write(`troupe: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  code = 1
}
// Exit once stdout has flushed, even if something (an app's timer, a client's socket) still
// holds the event loop: a command that returned is done.
process.stdout.write('', () => process.exit(code))
