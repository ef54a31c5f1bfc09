// defineApp's checks (appProblem), as `troupe dev`, `troupe template` and the bundle's entry see an app.
import t from 'tap'
import { Actor } from '../../lib/index.js'
import { appProblem } from '../../lib/app/define-app.js'
import { MemoryPayloadStore } from '../../lib/store/payload-store.js'

class Ping extends Actor<{ n: number }> {
  static readonly type = 'ping'
  receive() {}
}

t.test('payloads: an object of claim-check options, each checked with the field named', async (t) => {
  const ok = [{}, { aboveBytes: 64 * 1024 }, { ttlMs: 86_400_000 }, { store: new MemoryPayloadStore(), aboveBytes: 1 }]
  for (const payloads of ok) t.equal(appProblem({ actors: [Ping], payloads }), undefined, JSON.stringify(payloads))
  const refused: [unknown, RegExp][] = [
    [null, /^`payloads` must be an object/],
    [true, /^`payloads` must be an object/],
    [[], /^`payloads` must be an object/],
    [{ store: {} }, /^`payloads\.store` must be a PayloadStore \(put, get\)/],
    [{ store: { put() {} } }, /^`payloads\.store` must be a PayloadStore/],
    [{ aboveBytes: 0 }, /^`payloads\.aboveBytes` must be a whole number of bytes from 1 up, got 0$/],
    [{ aboveBytes: 1.5 }, /^`payloads\.aboveBytes` .* got 1\.5$/],
    [{ aboveBytes: '1024' }, /^`payloads\.aboveBytes` .* got "1024"$/],
    [{ ttlMs: -1 }, /^`payloads\.ttlMs` must be a positive number of ms, got -1$/],
    [{ ttlMs: Number.NaN }, /^`payloads\.ttlMs` .* got NaN$/],
  ]
  for (const [payloads, message] of refused) t.match(appProblem({ actors: [Ping], payloads }), message, JSON.stringify(payloads) ?? String(payloads))
})

t.test('files: bundle paths that stay inside the bundle, each to a source path', async (t) => {
  t.equal(appProblem({ actors: [Ping], files: { 'data/a.csv': './a.csv', 'sql-wasm.wasm': 'sql.js/dist/sql-wasm.wasm' } }), undefined)
  const bad: [unknown, RegExp][] = [
    [[], /^`files` must be an object/],
    [{ 'a.csv': '' }, /^files\["a\.csv"\] must be a source path/],
    [{ '../a.csv': './a.csv' }, /must be relative and stay inside it/],
    [{ '/etc/a.csv': './a.csv' }, /must be relative and stay inside it/],
    [{ 'index.mjs': './a.js' }, /that name is the bundle's own/],
  ]
  for (const [files, problem] of bad) t.match(appProblem({ actors: [Ping], files }), problem, JSON.stringify(files))
})

t.test('runtime: a Lambda runtime troupe deploys to', async (t) => {
  t.equal(appProblem({ actors: [Ping], runtime: 'nodejs22.x' }), undefined)
  t.match(appProblem({ actors: [Ping], runtime: 'nodejs20.x' }), /^`runtime` must be one of nodejs24\.x, nodejs22\.x, got "nodejs20\.x"$/)
})
