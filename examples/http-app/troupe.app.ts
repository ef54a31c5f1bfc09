// The HTTP API in the AWS mode, on this machine:
//   npx troupe dev --app examples/http-app/troupe.app.ts
// The API is served in front of the AWS-mode system (PORT, a free one by default); under --once
// it makes the example requests itself.
import { createLogger } from 'troupe'
import { defineApp } from 'troupe/aws'
import { Account } from './actors/Account.js'
import { Audit } from './actors/Audit.js'
import { runHttpApp } from './run.js'
import { startHttpApp } from './server.js'

export default defineApp({
  actors: [Account, Audit],
  async start(system, { once, log }) {
    // The system logs through troupe dev's own logger (--log-level); the API's lines go to stderr as JSON.
    const logger = createLogger('info')
    if (once) {
      const report = await runHttpApp(system, logger)
      for (const x of [...report.deposits, ...report.refused, report.account]) log(`http-app: ${x.method} ${x.path} → ${x.status} ${JSON.stringify(x.body)}`)
      return
    }
    const api = await startHttpApp(system, logger, Number(process.env.PORT ?? 0))
    return { stop: () => api.close(), info: { api: api.url, openapi: `${api.url}/openapi.json` } }
  },
})
