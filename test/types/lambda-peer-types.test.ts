// troupe/aws and troupe/lambda name their optional peers structurally (LambdaSender, EsbuildPlugin),
// so their declarations need neither installed: a real LambdaClient and a real esbuild Plugin must
// still fit, and a plugin written inline, as esbuild's docs write them, must still compile.
// Compile-time checks: `tsc --noEmit` fails if any of these stops compiling.
import { LambdaClient } from '@aws-sdk/client-lambda'
import type { Plugin } from 'esbuild'
import t from 'tap'
import { lambdaInvoker } from '../../lib/aws/index.js'
import type { BundleOptions } from '../../lib/lambda/index.js'

const client = new LambdaClient({ region: 'eu-west-1' })
t.teardown(() => client.destroy())
const named: Plugin = { name: 'named', setup() {} }
const inline: BundleOptions = {
  entry: 'h.ts',
  outfile: 'h.mjs',
  plugins: [named, { name: 'inline', setup(build) { build.onResolve({ filter: /^virtual:/ }, (args: { path: string }) => ({ path: args.path, namespace: 'v' })) } }],
}
const checked: BundleOptions = { entry: 'h.ts', outfile: 'h.mjs', plugins: [{ name: 'checked', setup() {} } satisfies Plugin] }

t.equal(lambdaInvoker(client, 'orders-host').functionName, 'orders-host', 'a LambdaClient makes an invoker')
t.same(inline.plugins?.map((p) => p.name), ['named', 'inline'], "esbuild's Plugin, and one written inline")
t.same(checked.plugins?.map((p) => p.name), ['checked'], 'and one checked against esbuild with satisfies')
