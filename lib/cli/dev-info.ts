// What `troupe dev` says about a run (dev-report.ts prints it, --json writes it as it is): where
// everything is once it is ready, and what ran once it stopped.
import type { App } from '../app/define-app.js'
import type { AwsSystem } from '../aws/aws-system.js'
import type { SystemSnapshot } from '../core/inspection.js'
import type { LocalStack } from '../local/local-stack.js'
import { DEV_FUNCTION, type DevLambdaHost, type DevLambdaStats } from './dev-lambda.js'
import type { DevReady, DevStopped } from './dev-report.js'

/** The same region and fake credentials as `clients()` in lib/local/local-stack.ts. */
const REGION = 'us-east-1'
const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }

export function readyInfo(parts: {
  appFile: string
  appInfo: Record<string, unknown> | undefined
  dir: string
  dataDir: string
  stack: LocalStack
  table: string
  shards: { name: string; shards: number }[]
  app: App
  system: AwsSystem
  lambda: DevLambdaHost | undefined
}): DevReady {
  const { stack } = parts
  const kinds = new Map(parts.system.inspect().actors.map((a) => [a.type, a.kind]))
  return {
    event: 'ready',
    app: { file: parts.appFile, ...(parts.appInfo ? { info: parts.appInfo } : {}) },
    dir: parts.dir,
    data: parts.dataDir,
    dynamodb: { endpoint: stack.dynamodbEndpoint, table: parts.table },
    kinesis: { endpoint: stack.kinesisEndpoint, emulator: stack.kinesis, streams: parts.shards },
    actors: parts.app.actors.map((a) => ({ type: a.type, kind: kinds.get(a.type) ?? 'stateless' })),
    host: parts.lambda
      ? { kind: 'lambda', function: DEV_FUNCTION, bundle: parts.lambda.bundle, bundleBytes: parts.lambda.stats().bundleBytes, invokeEndpoint: parts.lambda.invokeEndpoint }
      : { kind: 'process' },
    region: REGION,
    credentials: CREDENTIALS,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
      AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
  }
}

export function stoppedInfo(snapshot: SystemSnapshot, durationMs: number, lambda: { stats: DevLambdaStats; deadLetters: number } | undefined): DevStopped {
  if (lambda) {
    // The turns ran in the function's processes: what they did is seen from the mapping and the Invoke API.
    const messages = lambda.stats.recordsRead + lambda.stats.asks
    return { event: 'stopped', durationMs, host: 'lambda', messages, deadLetters: lambda.deadLetters, requests: null, requestsPerMessage: null, actors: Object.fromEntries(snapshot.actors.map((a) => [a.type, a.counts])), lambda: lambda.stats }
  }
  const messages = snapshot.cost?.messages ?? snapshot.actors.reduce((n, a) => n + a.counts.done + a.counts.filtered + a.counts.dead, 0)
  const requests = snapshot.cost?.requests ?? 0
  return {
    host: 'process',
    event: 'stopped',
    durationMs,
    messages,
    deadLetters: snapshot.deadLetters,
    requests,
    requestsPerMessage: messages > 0 ? Math.round((requests / messages) * 100) / 100 : null,
    actors: Object.fromEntries(snapshot.actors.map((a) => [a.type, a.counts])),
  }
}
