// What `troupe dev` prints: where everything is once it runs, and a summary once it stopped.
// The same objects are the JSON lines of `--json` and the contents of `<dir>/dev.json`.
import type { ActorCounts } from '../core/inspection.js'
import type { DevLambdaStats } from './dev-lambda.js'

export interface DevReady {
  event: 'ready'
  /** Where this process serves inspection (troupe inspect --url, and the web view). */
  inspect?: { url: string }
  /** The app's file (absolute), and what its start() said about itself. */
  app: { file: string; info?: Record<string, unknown> }
  /** The project folder (absolute). */
  dir: string
  /** Where the emulators keep their data (absolute). */
  data: string
  dynamodb: { endpoint: string; table: string }
  kinesis: { endpoint: string; emulator: string; streams: { name: string; shards: number }[] }
  actors: { type: string; kind: string }[]
  /** Where the turns run: the app's Lambda bundle in local function processes, or this process. */
  host: { kind: 'lambda'; function: string; bundle: string; bundleBytes: number; invokeEndpoint: string } | { kind: 'process' }
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** The environment that points the AWS CLI and SDKs at the emulators. */
  env: Record<string, string>
}

export interface DevStopped {
  event: 'stopped'
  durationMs: number
  host: 'lambda' | 'process'
  /** process: messages whose turns ran (done, filtered or dead); lambda: records the mappings read and asks invoked. */
  messages: number
  /** Messages dead-lettered in this run. */
  deadLetters: number
  /** process: requests to the emulators, polling included, what the same run would be billed on AWS; lambda: null (the function's requests are its own). */
  requests: number | null
  requestsPerMessage: number | null
  /** Counts of this process: with --host lambda only what the app sent (the turns ran in the function). */
  actors: Record<string, ActorCounts>
  /** With --host lambda: the function and its mappings. */
  lambda?: DevLambdaStats
}

export function formatReady(info: DevReady, options: { show: (path: string) => string; once: boolean }): string {
  const { show } = options
  const rows: [string, string][] = [
    ['DynamoDB', `${info.dynamodb.endpoint}   table ${info.dynamodb.table}`],
    [
      'Kinesis',
      `${info.kinesis.endpoint}   ${info.kinesis.emulator}; ${info.kinesis.streams
        .map((s) => `stream ${s.name} (${s.shards} shard${s.shards === 1 ? '' : 's'})`)
        .join(', ')}`,
    ],
    ['Data', `${show(info.data)}   (kept between runs; remove the folder to start afresh)`],
    ['Actors', info.actors.map((a) => `${a.type} (${a.kind})`).join(', ')],
    [
      'Host',
      info.host.kind === 'lambda'
        ? `Lambda function ${info.host.function} (${show(info.host.bundle)}, ${(info.host.bundleBytes / 1024).toFixed(0)} KiB), local event source mapping; Invoke API ${info.host.invokeEndpoint}`
        : 'this process (shard consumer)',
    ],
  ]
  if (info.inspect) rows.push(['Inspect', `${info.inspect.url}   (open it for the web view; troupe inspect --url ${info.inspect.url})`])
  const appInfo = Object.entries(info.app.info ?? {})
  const keyWidth = Math.max(0, ...appInfo.map(([key]) => key.length))
  for (const [i, [key, value]] of appInfo.entries()) {
    rows.push([i === 0 ? 'App' : '', `${key.padEnd(keyWidth)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`])
  }
  const width = Math.max(...rows.map(([label]) => label.length))
  const env = info.env
  return [
    `troupe dev: running ${show(info.app.file)}`,
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    '  From another shell or an AWS SDK client:',
    `    export AWS_ENDPOINT_URL_DYNAMODB=${env.AWS_ENDPOINT_URL_DYNAMODB}`,
    `    export AWS_ENDPOINT_URL_KINESIS=${env.AWS_ENDPOINT_URL_KINESIS}`,
    `    export AWS_REGION=${env.AWS_REGION} AWS_ACCESS_KEY_ID=${env.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${env.AWS_SECRET_ACCESS_KEY}`,
    "  or in code: clients({ dynamodbEndpoint, kinesisEndpoint }) from 'troupe/local'",
    '',
    options.once ? '  --once: waiting until the system is idle, then stopping.' : '  Ctrl-C stops (a second Ctrl-C forces the exit).',
    '',
  ].join('\n')
}

export function formatStopped(summary: DevStopped): string {
  if (summary.lambda) {
    const l = summary.lambda
    return (
      `troupe dev: stopped after ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${plural(l.recordsRead, 'record')} delivered in ${plural(l.batches, 'batch')}, ${plural(l.asks, 'ask')} invoked, ` +
      `${plural(l.inits, 'environment')} started, ${plural(l.functionErrors, 'function error')}, ${plural(summary.deadLetters, 'dead letter')}\n`
    )
  }
  const perMessage = summary.requestsPerMessage === null ? '' : `, ${summary.requestsPerMessage} per message`
  return (
    `troupe dev: stopped after ${(summary.durationMs / 1000).toFixed(1)} s: ` +
    `${plural(summary.messages, 'message')} handled, ${plural(summary.deadLetters, 'dead letter')}, ` +
    `${plural(summary.requests ?? 0, 'request')} to DynamoDB and Kinesis (polling included${perMessage})\n`
  )
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('ch') ? 'es' : 's'}`
}
