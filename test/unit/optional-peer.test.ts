// Optional peers: a missing one is an error naming the package and the command that installs it;
// any other failure of the import passes through as it was.
import t from 'tap'
import { loadPeer, MissingPeerError, missingPackage } from '../../lib/core/optional-peer.js'

t.test('a peer that is not installed: MissingPeerError naming the package, what needed it, and npm install', async (t) => {
  const error = await loadPeer('troupe-no-such-peer', 'asking by Invoke', () => import('troupe-no-such-peer' as string)).catch((e: unknown) => e)
  t.type(error, MissingPeerError)
  t.equal((error as MissingPeerError).code, 'TROUPE_MISSING_PEER')
  t.equal((error as MissingPeerError).package, 'troupe-no-such-peer')
  t.match((error as Error).message, 'asking by Invoke needs the npm package troupe-no-such-peer, which is not installed: npm install troupe-no-such-peer')
})

t.test('a peer that is there loads; one that fails for another reason keeps its own error', async (t) => {
  const nanoid = await loadPeer('nanoid', 'ids', () => import('nanoid'))
  t.type(nanoid.nanoid, 'function')
  const broken = new Error('SyntaxError inside the package')
  t.equal(await loadPeer('nanoid', 'ids', () => Promise.reject(broken)).catch((e: unknown) => e), broken)
  // A package that is installed but misses a dependency of its own: that one is named, not the peer.
  const inner = Object.assign(new Error("Cannot find package 'tslib' imported from /x/node_modules/nanoid/index.js"), { code: 'ERR_MODULE_NOT_FOUND' })
  t.equal(await loadPeer('nanoid', 'ids', () => Promise.reject(inner)).catch((e: unknown) => e), inner)
})

t.test('missingPackage reads the package from Node’s messages, along the causes', async (t) => {
  const esm = Object.assign(new Error("Cannot find package '@aws-sdk/client-lambda' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' })
  const cjs = Object.assign(new Error("Cannot find module 'esbuild'\nRequire stack:\n- /app/x.cjs"), { code: 'MODULE_NOT_FOUND' })
  const file = Object.assign(new Error("Cannot find module '/app/missing.js' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' })
  t.equal(missingPackage(esm), '@aws-sdk/client-lambda')
  t.equal(missingPackage(cjs), 'esbuild')
  t.equal(missingPackage(new Error('wrapped', { cause: esm })), '@aws-sdk/client-lambda')
  t.equal(missingPackage(new MissingPeerError('cytoscape', 'the web view')), 'cytoscape')
  t.equal(missingPackage(file), undefined, 'a missing file is not a missing package')
  const windows = Object.assign(new Error("Cannot find module 'C:\\Users\\me\\app\\actors.js' imported from C:\\Users\\me\\app\\x.js"), { code: 'ERR_MODULE_NOT_FOUND' })
  t.equal(missingPackage(windows), undefined, 'nor a Windows path')
  t.equal(missingPackage(new Error("the page says: Cannot find package 'x'")), undefined, "only Node's own message, from its start")
  t.equal(missingPackage(undefined), undefined)
})
