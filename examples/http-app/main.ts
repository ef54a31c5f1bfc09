// troupe example: an HTTP API in front of actors (hono on Node).
//
// What it shows
// - POST /accounts/{id}/deposits validates the body with a zod schema and `system.tell`s the
//   Account actor: 202 with the message id, or 400 naming the field.
// - GET /accounts/{id} `system.ask`s the keyed Account actor for its balances.
// - The request id (X-Request-Id, kept when valid, made when absent) is the correlation id of
//   every message the request causes, so it is on every log line of its whole trace: the API's
//   request/response lines, the Account turn's, and the Audit turn's downstream.
// - GET /openapi.json: the OpenAPI 3.1 document, generated from the same zod schemas.
//
// Run it
//   npx tsx examples/http-app/main.ts            # serve on 127.0.0.1:8787 (PORT), Ctrl-C stops
//   npx tsx examples/http-app/main.ts --demo     # make the example requests, print them, stop
//   npx troupe dev --app examples/http-app/troupe.app.ts
import { createLogger, createSystem } from 'troupe'
import { Account } from './actors/Account.js'
import { Audit } from './actors/Audit.js'
import { runHttpApp } from './run.js'
import { startHttpApp } from './server.js'
import { readFlags } from '../shared/flags.js'

const USAGE = `Usage: tsx examples/http-app/main.ts [--demo]

Serves an HTTP API in front of troupe actors on 127.0.0.1 (PORT, default 8787), logging one
JSON line per event on stderr, each with the request's correlation id. With ADMIN_TOKEN set,
the management routes (/admin/…: pause and resume an actor type or key) are served too, for
requests with Authorization: Bearer <ADMIN_TOKEN>.

Options
  --demo       make the example requests against it, print them, and stop
  -h, --help   show this help
`

const values = readFlags(USAGE, { demo: { type: 'boolean' } })

const logger = createLogger('info')
const system = createSystem({ actors: [Account, Audit], logger })
if (values.demo) {
  try {
    const report = await runHttpApp(system, logger)
    const m = report.management
    for (const x of [...report.deposits, ...report.refused, report.account, m.unauthorized, m.paused, m.toldWhilePaused, m.resumed, m.after]) {
      process.stdout.write(`${x.method} ${x.path} → ${x.status} ${JSON.stringify(x.body)}\n`)
    }
    process.stdout.write(`GET /openapi.json → ${report.openapi.status}, paths: ${Object.keys((report.openapi.body as { paths: object }).paths).join(', ')}\n`)
  } finally {
    await system.stop()
  }
} else {
  const adminToken = process.env.ADMIN_TOKEN
  const api = await startHttpApp(system, logger, Number(process.env.PORT ?? 8787), adminToken ? { adminToken } : {})
  process.stderr.write(`http-app: listening on ${api.url}; try\n  curl -X POST -H 'content-type: application/json' -d '{"amount":1250,"currency":"EUR"}' ${api.url}/accounts/ada-1/deposits\n  curl ${api.url}/accounts/ada-1\n  curl ${api.url}/openapi.json\n`)
  const stop = async () => {
    await api.close()
    await system.stop()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
