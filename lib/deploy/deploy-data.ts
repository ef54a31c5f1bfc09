// `troupe deploy`, the data half: the Kinesis streams (created, or resharded to the wanted
// count) and the DynamoDB table (created with createTable; TTL on `ttl`, point-in-time
// recovery). Both work against the local servers too, which lack some APIs: a step whose API
// the endpoint does not have is reported `skipped`.
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb'
import { CreateStreamCommand, DescribeStreamSummaryCommand, UpdateShardCountCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { TroupeError } from '../core/errors.js'
import { createTable, tableDefinition } from '../store/dynamodb.js'
import type { Stack, StreamSpec } from './stack.js'
import { isError, retrying, waitUntil, type Steps } from './steps.js'

/** Errors of an endpoint that does not have the operation (dynalite, kinesalite). */
const UNSUPPORTED = ['UnknownOperationException', 'UnrecognizedClientException']

export interface DataContext {
  steps: Steps
  timeoutMs: number
  firstPollMs: number
  propagationDelaysMs: readonly number[]
}

/** Creates or reshards each stream; answers each stream's ARN (undefined when a dry run found none). */
export async function deployStreams(kinesis: KinesisClient, stack: Stack, context: DataContext): Promise<Map<string, string | undefined>> {
  const arns = new Map<string, string | undefined>()
  for (const stream of stack.streams) arns.set(stream.name, await deployStream(kinesis, stream, context))
  return arns
}

async function deployStream(kinesis: KinesisClient, stream: StreamSpec, context: DataContext): Promise<string | undefined> {
  const { steps } = context
  const describe = () => kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream.name })).then((out) => out.StreamDescriptionSummary)
  const untilActive = () =>
    waitUntil(`stream ${stream.name} becoming ACTIVE`, async () => {
      const s = await describe()
      return s?.StreamStatus === 'ACTIVE' ? s : undefined
    }, context)
  let found = await steps.read(`stream ${stream.name}`, () =>
    describe().catch((e: unknown) => {
      if (isError(e, 'ResourceNotFoundException')) return undefined
      throw e
    }),
  )
  if (!found) {
    let arn: string | undefined
    await steps.run({ resource: 'stream', name: stream.name, action: 'create', detail: `${plural(stream.shards, 'shard')}` }, async () => {
      await kinesis.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shards }))
      arn = (await untilActive()).StreamARN
    })
    return arn
  }
  if (found.StreamStatus !== 'ACTIVE' && !steps.dryRun) found = await untilActive()
  if (found.StreamModeDetails?.StreamMode === 'ON_DEMAND') {
    steps.record({ resource: 'stream', name: stream.name, action: 'unchanged', detail: 'on-demand: Kinesis sizes it, --shards does not apply' })
    return found.StreamARN
  }
  const open = found.OpenShardCount ?? 0
  if (open === stream.shards) {
    steps.record({ resource: 'stream', name: stream.name, action: 'unchanged', detail: plural(open, 'shard') })
    return found.StreamARN
  }
  await steps.run({ resource: 'stream', name: stream.name, action: 'update', detail: `${open} → ${plural(stream.shards, 'shard')}` }, async () => {
    // One UpdateShardCount may at most double or halve the count: step there.
    for (let current = open; current !== stream.shards; ) {
      const next = stream.shards > current ? Math.min(stream.shards, current * 2) : Math.max(stream.shards, Math.ceil(current / 2))
      await kinesis.send(new UpdateShardCountCommand({ StreamName: stream.name, TargetShardCount: next, ScalingType: 'UNIFORM_SCALING' }))
      current = (await untilActive()).OpenShardCount ?? next
    }
  })
  return found.StreamARN
}

export interface DeployedTable {
  arn: string | undefined
  /** Index name → ARN, for every index of the table (from the table, or the definition under a dry run). */
  indexes: Map<string, string | undefined>
}

/** Creates the table, or checks that the one there has troupe's keys; then TTL and point-in-time recovery. */
export async function deployTable(dynamodb: DynamoDBClient, stack: Stack, context: DataContext): Promise<DeployedTable> {
  const { steps } = context
  const name = stack.tableName
  const definition = tableDefinition(name)
  const describe = () => dynamodb.send(new DescribeTableCommand({ TableName: name })).then((out) => out.Table)
  let table = await steps.read(`table ${name}`, () =>
    describe().catch((e: unknown) => {
      if (isError(e, 'ResourceNotFoundException')) return undefined
      throw e
    }),
  )
  const indexNames = (definition.LocalSecondaryIndexes ?? []).map((i) => i.IndexName!)
  if (!table) {
    await steps.run({ resource: 'table', name, action: 'create', detail: `keys pk, sk; index ${indexNames.join(', ')}; on-demand` }, async () => {
      await createTable(dynamodb, name, { ifNotExists: true, timeoutMs: context.timeoutMs })
      table = await describe()
    })
    if (!table) {
      // A dry run: what the table would get.
      steps.record({ resource: 'table-ttl', name, action: 'create', detail: 'on ttl' })
      if (stack.pointInTimeRecovery) steps.record({ resource: 'table-pitr', name, action: 'create', detail: 'point-in-time recovery' })
      return { arn: undefined, indexes: new Map(indexNames.map((n) => [n, undefined])) }
    }
  } else {
    const problem = keysProblem(table)
    if (problem) {
      throw new TroupeError('TROUPE_DEPLOY_TABLE', `table ${name} exists with other keys than troupe's (${problem}); a table's keys cannot change: give another table name`)
    }
    steps.record({ resource: 'table', name, action: 'unchanged', detail: table.TableStatus === 'ACTIVE' ? undefined : table.TableStatus })
  }
  await deployTtl(dynamodb, name, steps)
  await deployPitr(dynamodb, stack, context)
  const found = table
  return {
    arn: found.TableArn,
    indexes: new Map(indexNames.map((n) => [n, found.LocalSecondaryIndexes?.find((i) => i.IndexName === n)?.IndexArn ?? (found.TableArn && `${found.TableArn}/index/${n}`)])),
  }
}

async function deployTtl(dynamodb: DynamoDBClient, name: string, steps: Steps): Promise<void> {
  const step = { resource: 'table-ttl' as const, name }
  const ttl = await steps.read(`the TTL of table ${name}`, () =>
    dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name })).then(
      (out) => out.TimeToLiveDescription,
      (e: unknown) => {
        if (isError(e, ...UNSUPPORTED)) return 'unsupported' as const
        throw e
      },
    ),
  )
  if (ttl === 'unsupported') return steps.record({ ...step, action: 'skipped', detail: 'this endpoint has no TTL API' })
  const status = ttl?.TimeToLiveStatus
  if ((status === 'ENABLED' || status === 'ENABLING') && ttl?.AttributeName === 'ttl') return steps.record({ ...step, action: 'unchanged', detail: 'on ttl' })
  if ((status === 'ENABLED' || status === 'ENABLING') && ttl?.AttributeName) {
    throw new TroupeError('TROUPE_DEPLOY_TABLE', `table ${name} has TTL on ${ttl.AttributeName}; troupe's items expire by ttl, and a table has one TTL attribute`)
  }
  if (steps.dryRun) return steps.record({ ...step, action: 'update', detail: 'turn on, on ttl' })
  // Tried before it is reported: dynalite describes TTL but cannot change it.
  try {
    await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }))
  } catch (e) {
    if (isError(e, ...UNSUPPORTED)) return steps.record({ ...step, action: 'skipped', detail: 'this endpoint has no UpdateTimeToLive' })
    throw new TroupeError('TROUPE_DEPLOY', `turning on TTL of table ${name} failed: ${(e as Error).message}`, { cause: e })
  }
  steps.record({ ...step, action: 'update', detail: 'turned on, on ttl' })
}

async function deployPitr(dynamodb: DynamoDBClient, stack: Stack, context: DataContext): Promise<void> {
  const { steps } = context
  const name = stack.tableName
  const step = { resource: 'table-pitr' as const, name }
  if (!stack.pointInTimeRecovery) return steps.record({ ...step, action: 'unchanged', detail: 'not asked for; left as it is' })
  const backups = await steps.read(`the backups of table ${name}`, () =>
    dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: name })).then(
      (out) => out.ContinuousBackupsDescription,
      (e: unknown) => {
        if (isError(e, ...UNSUPPORTED)) return 'unsupported' as const
        throw e
      },
    ),
  )
  if (backups === 'unsupported') return steps.record({ ...step, action: 'skipped', detail: 'this endpoint has no backups API' })
  if (backups?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED') {
    return steps.record({ ...step, action: 'unchanged', detail: 'point-in-time recovery on' })
  }
  await steps.run({ ...step, action: 'update', detail: 'turn point-in-time recovery on' }, () =>
    // A table created a moment ago may still be turning its continuous backups on.
    retrying(
      () => dynamodb.send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })).then(() => undefined),
      (e) => isError(e, 'ContinuousBackupsUnavailableException'),
      context.propagationDelaysMs,
    ),
  )
}

/** Why a table's keys are not troupe's, or undefined when they are. */
function keysProblem(table: TableDescription): string | undefined {
  const want = tableDefinition(table.TableName ?? 'troupe')
  const keys = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) => (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',')
  if (keys(table.KeySchema) !== keys(want.KeySchema)) return `keys ${keys(table.KeySchema)}, want ${keys(want.KeySchema)}`
  for (const index of want.LocalSecondaryIndexes ?? []) {
    const found = table.LocalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)
    if (!found) return `no local index ${index.IndexName}`
    if (keys(found.KeySchema) !== keys(index.KeySchema)) return `index ${index.IndexName} has keys ${keys(found.KeySchema)}, want ${keys(index.KeySchema)}`
  }
  return undefined
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
