// Replay and resume over a table put messages on the stream: a TableInspector made without one
// (troupe inspect --table without --stream) says which flags give it, --kinesis-endpoint included.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import t from 'tap'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { ConfigError } from '../../lib/core/errors.js'

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
