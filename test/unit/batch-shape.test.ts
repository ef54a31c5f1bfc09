// The shape of a Kinesis batch from an event source mapping (lib/lambda/batch-shape.ts): one shard,
// records in order, each naming its stream by ARN. Pure: no server.
import t from 'tap'
import { checkBatchShape } from '../../lib/lambda/batch-shape.js'

const ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders'
const record = (seq: string | undefined, over: Record<string, unknown> = {}) => ({
  eventSource: 'aws:kinesis',
  eventID: `shardId-000000000001:${seq}`,
  eventSourceARN: ARN,
  kinesis: { sequenceNumber: seq, data: 'e30=' },
  ...over,
})
const code = (records: unknown[]) => {
  try {
    checkBatchShape(records)
    return undefined
  } catch (error) {
    return (error as { code?: string }).code
  }
}

t.same(checkBatchShape([record('100'), record('101'), record('1000')]), { stream: 'orders', shardId: 'shardId-000000000001' }, 'one shard in order: its stream and shard')
t.equal(code([record('100'), record('100')]), undefined, 'the same record twice is for the host to recognise, not refused')
for (const seq of [undefined, '', 'abc', '0100', '12.5', '-1', '1'.repeat(129)]) {
  t.equal(code([record('100'), record(seq), record('101')]), 'TROUPE_BAD_INVOCATION', `a record whose sequence number is ${JSON.stringify(seq)?.slice(0, 20)}: none Kinesis gives`)
}
t.match(String((() => { try { checkBatchShape([record('100'), record(undefined)]) } catch (e) { return (e as Error).message } })()), /record 1 of orders\/shardId-000000000001 has sequence number undefined/, 'the refusal names the record')
t.equal(code([record('101'), record('100')]), 'TROUPE_BAD_INVOCATION', 'a record lower than the one before it')
t.equal(code([record('99999999999999999999999999999999999999999999999999990'), record('100000000000000000000000000000000000000000000000000000')]), undefined, 'compared as numbers, not text')
t.equal(code([record('100'), record('101', { eventID: 'shardId-000000000002:101' })]), 'TROUPE_BAD_INVOCATION', 'two shards')
t.equal(code([record('100'), record('101', { eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/other' })]), 'TROUPE_BAD_INVOCATION', 'two streams')
for (const arn of [undefined, '', 'garbage', 'arn:aws:sqs:eu-west-1:123456789012:queue', 'arn:aws:kinesis:eu-west-1:123:stream/orders']) {
  t.equal(code([record('100', { eventSourceARN: arn })]), 'TROUPE_BAD_INVOCATION', `eventSourceARN ${JSON.stringify(arn)}`)
}
t.equal(code([record('100', { eventSourceARN: 'arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders' })]), undefined, 'another partition')
t.equal(code([record('100'), null]), 'TROUPE_BAD_INVOCATION', 'a null record')
t.equal(code([record('100'), 'x']), 'TROUPE_BAD_INVOCATION', 'a string for a record')
