#!/usr/bin/env node
// The `troupe` command: hands the arguments to the CLI's main(), compiled under dist/ (or, when
// Node runs with --conditions=troupe-source as this repository's scripts do, its TypeScript source).
//
// tsx, an optional peer, is registered when it is installed so that an app written in TypeScript
// loads (`troupe dev --app troupe.app.ts`), for `import` and for `require`: a .ts file outside a
// "type": "module" package compiles to CommonJS. Without it, a .js app loads as it is.
//
// The AWS SDK warns on Node 20 that its releases after January 2027 will need Node 22, once in
// every process that makes a client: on every command run over AWS, where the one reading it is
// in the middle of something else. troupe supports Node 20 and says so in its engines; the SDK's
// documented switch quiets it unless the user set it (=false shows it again).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
let code
try {
  await registerTsx()
  const { main } = await import('#cli')
  code = await main(process.argv.slice(2))
} catch (error) {
  process.stderr.write(`troupe: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  code = 1
}
// Exit once stdout has flushed, even if something (an app's timer, a client's socket) still
// holds the event loop: a command that returned is done.
process.stdout.write('', () => process.exit(code))

async function registerTsx() {
  let apis
  try {
    apis = await Promise.all([import('tsx/cjs/api'), import('tsx/esm/api')])
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return
    throw error
  }
  for (const api of apis) api.register()
}
