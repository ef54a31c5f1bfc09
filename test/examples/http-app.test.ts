// The http-app example end to end, in both modes: real HTTP through hono, deposits told, reads
// asked, bad bodies refused naming the field, the request id on every log line of its trace,
// and an OpenAPI document made from the schemas.
import t from 'tap'
import { createLogger } from '../../lib/index.js'
import { Account } from '../../examples/http-app/actors/Account.js'
import { Audit } from '../../examples/http-app/actors/Audit.js'
import { runHttpApp } from '../../examples/http-app/run.js'
import { exampleModes } from './fixtures/modes.js'

for (const mode of exampleModes(t)) {
  t.test(`${mode.name}: the API tells, asks, refuses and traces`, async (t) => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger('info', {}, (line) => lines.push(JSON.parse(line)))
    const { system, close } = await mode.start({ actors: [Account, Audit], logger })
    t.teardown(close)
    const r = await runHttpApp(system, logger)

    t.same(r.deposits.map((x) => x.status), [202, 202, 202])
    t.equal(r.deposits[0]!.requestId, 'req-salary-1', 'a valid incoming X-Request-Id is kept')
    for (const x of r.deposits) t.match(x.body, { messageId: /\S/, requestId: x.requestId })
    t.same(
      r.refused.map((x) => [x.status, (x.body as { error: string }).error]),
      [
        [400, 'amount: Too small: expected number to be >0'],
        [400, 'currency: Invalid option: expected one of "EUR"|"USD"|"GBP"'],
        [400, '(body): Unrecognized key: "note"'],
        [400, 'the body is not JSON'],
        [400, 'id: an account id is 3 to 40 of a-z, 0-9 and "-"'],
      ],
    )
    t.same(r.account.body, { id: 'ada-1', balances: { EUR: 1550, USD: 5 }, deposits: 3 }, 'GET asks the keyed actor')

    // Every line of a deposit's trace carries its request id: the API's, the Account turn's and
    // the Audit turn's downstream; and no line of those turns is without one.
    for (const x of r.deposits) {
      const trace = lines.filter((l) => l.correlationId === x.requestId).map((l) => l.msg)
      t.same([...trace].sort(), ['audit', 'deposit applied', 'deposit told', 'request', 'response'], `the trace of ${x.requestId}`)
    }
    const turnLines = lines.filter((l) => l.msg === 'deposit applied' || l.msg === 'audit')
    t.equal(turnLines.length, 8, 'two turns for each of the 4 deposits (one told while its account was paused)')
    const told = [...r.deposits, r.management.toldWhilePaused]
    t.ok(turnLines.every((l) => told.some((x) => x.requestId === l.correlationId)), 'no turn line without its request id')
    for (const x of r.refused) {
      t.same(lines.filter((l) => l.correlationId === x.requestId).map((l) => l.msg), ['request', 'response'], 'a refused request is traced too, and tells nothing')
    }
    t.same(lines.filter((l) => l.correlationId === 'req-read-1').map((l) => l.msg), ['request', 'response'])

    const doc = r.openapi.body as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>> }
    t.equal(doc.openapi, '3.1.0')
    t.same(Object.keys(doc.paths), ['/accounts/{id}/deposits', '/accounts/{id}', '/admin/actors/{type}/pause', '/admin/actors/{type}/resume', '/admin/pauses'])

    // The management routes: refused without the token; a paused key's deposit waits and is applied after resume.
    const m = r.management
    t.equal(m.unauthorized.status, 401, 'no token, no pause')
    t.equal(m.paused.status, 200)
    t.same(m.paused.body, { pauses: [{ type: 'account', key: 'bob-2' }] })
    t.equal(m.toldWhilePaused.status, 202, 'a deposit to the paused key is accepted')
    t.same(m.resumed.body, { pauses: [] })
    t.same(m.after.body, { id: 'bob-2', balances: { GBP: 700 }, deposits: 1 }, 'the deposit that waited was applied after resume')
    t.ok(lines.some((l) => l.msg === 'actor paused' && l.correlationId === 'req-pause-1' && l.key === 'bob-2'), 'the pause is logged under its request id')
    t.match(doc.paths['/accounts/{id}/deposits']?.post?.requestBody?.content['application/json']?.schema, {
      type: 'object',
      properties: { amount: { type: 'integer', exclusiveMinimum: 0, maximum: 1_000_000 }, currency: { enum: ['EUR', 'USD', 'GBP'] } },
      required: ['amount', 'currency'],
      additionalProperties: false,
    })
  })
}
