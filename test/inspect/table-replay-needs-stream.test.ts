// Replay and resume over a table put messages on the stream: a TableInspector made without one
// (troupe inspect --table without --stream) says which flags give it, --kinesis-endpoint included;
// `dead replay --all` says it once, not once per letter.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import t from 'tap'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { ConfigError } from '../../lib/core/errors.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { clients } from '../../lib/local/local-stack.js'
import { createTable } from '../../lib/store/dynamodb.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { inspectCli } from './fixtures/cli-checks.js'

t.test('a replay without a stream names --stream and --kinesis-endpoint', async (t) => {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })
  t.teardown(() => dynamodb.destroy())
  const inspector = new TableInspector({ dynamodb, tableName: 'troupe' })
  const sender = (inspector as unknown as { sender(what: string): unknown }).sender.bind(inspector)
  t.throws(() => sender('replay dead letter m1'), ConfigError)
  t.throws(
    () => sender('replay dead letter m1'),
    /^\[TROUPE_CONFIG\] to replay dead letter m1, troupe puts a message on the stream: pass the stream's name \(--stream; TableInspector's stream and kinesis\) and, for a local Kinesis, its endpoint \(--kinesis-endpoint\)$/,
  )
})

t.test('dead replay --all without a stream says so once and leaves the other letters untried', async (t) => {
  const { stack } = await localStackFor(t)
  const { dynamodb } = clients(stack)
  t.teardown(() => dynamodb.destroy())
  const tableName = 'replay-no-stream'
  await createTable(dynamodb, tableName)
  const letters = ['d1', 'd2', 'd3'].map((id, n) => ({
    envelope: makeEnvelope({ id: id as MessageId, type: 'rn.kind', key: 'k', body: { n }, correlationId: id as string as CorrelationId, sentAt: n }),
    error: { name: 'Error', message: 'boom' },
    attempts: [],
    deadAt: n + 1,
  }))
  await new DynamoDBJournalStore({ client: dynamodb, tableName }).putDeadLetters(letters)
  const run = await inspectCli(['dead', 'replay', '--all', '--json'], ['--table', tableName, '--endpoint', stack.dynamodbEndpoint])
  t.equal(run.code, 1, 'exit 1: letters were not replayed')
  t.equal(run.stderr.match(/not replayed/g)?.length, 1, 'the missing stream is said once')
  t.match(run.stderr, /--kinesis-endpoint/)
  const answer = JSON.parse(run.stdout) as { replayed: string[]; failed: { id: string }[]; untried?: string[] }
  t.same(answer.replayed, [])
  t.equal(answer.failed.length, 1)
  t.same([answer.failed[0]!.id, ...(answer.untried ?? [])].sort(), ['d1', 'd2', 'd3'], 'the others are untried, and named')
})
