// How the adapters are mounted in your own Lambda functions: a system that only tells (the
// troupe Lambda, deployed with `troupe deploy`, runs the actors), and one exported handler per
// event source. Point each function's handler at one export, e.g. `index.uploads`.
// Not run by the example (it needs AWS); `tsc` checks it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { AwsSystem } from 'troupe/aws'
import { eventHandlers } from './handlers.js'
import { ACTORS } from './run.js'

const system = new AwsSystem({
  actors: ACTORS,
  kinesis: new KinesisClient({}),
  dynamodb: new DynamoDBClient({}),
  tableName: process.env.TROUPE_TABLE ?? 'troupe',
  stream: process.env.TROUPE_STREAM ?? 'troupe',
  consume: false,
})

export const { uploads, alerts, mirror, instances, scheduledRule } = eventHandlers(system)
