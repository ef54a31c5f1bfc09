// What the AWS adapters cost, per message: requests by API (troupe's RequestCounter, every HTTP
// attempt, retries included), plus the DynamoDB items they touched (a batch call reads or writes
// many items, and on-demand DynamoDB bills per item, not per call).
//
// Which APIs count as what:
// - putrecords: Kinesis.PutRecords + Kinesis.PutRecord (each call, whatever it carries);
// - dynamodb writes: PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems — state
//   commits, and also the shard consumer's checkpoint and lease writes (UpdateItem), which count;
// - dynamodb reads: GetItem, BatchGetItem, Query, Scan, TransactGetItems — state loads, and also
//   lease reads at each shard listing and the timer runner's Queries, which count;
// - kinesis reads: GetRecords, GetShardIterator, ListShards, DescribeStreamSummary;
// - requests: all of the above and anything else sent in the window.
// Units (what AWS bills): the PUT payload units and DynamoDB request units of those calls, as the
// counter counts them (lib/cost/billed-units.ts); priced in dollars where the adapter says how its
// host would be invoked on Lambda (../cost.ts).
import type { RequestCounts } from '../../lib/aws/request-counter.js'
import { repDollars, type Invocations } from '../cost.js'

export const PUT_APIS = ['Kinesis.PutRecords', 'Kinesis.PutRecord'] as const
export const WRITE_APIS = ['DynamoDB.PutItem', 'DynamoDB.UpdateItem', 'DynamoDB.DeleteItem', 'DynamoDB.BatchWriteItem', 'DynamoDB.TransactWriteItems'] as const
export const READ_APIS = ['DynamoDB.GetItem', 'DynamoDB.BatchGetItem', 'DynamoDB.Query', 'DynamoDB.Scan', 'DynamoDB.TransactGetItems'] as const
export const KINESIS_READ_APIS = ['Kinesis.GetRecords', 'Kinesis.GetShardIterator', 'Kinesis.ListShards', 'Kinesis.DescribeStreamSummary'] as const
/** Columns of the per-API counts in every rep line (0 when not called), so reps line up. */
const LISTED = [...PUT_APIS, ...KINESIS_READ_APIS, ...WRITE_APIS, ...READ_APIS]

export interface ItemCounts {
  read: number
  written: number
}

/**
 * Counts DynamoDB items per call as the SDK sends them: 1 for GetItem, PutItem, UpdateItem and
 * DeleteItem, the keys of a BatchGetItem, the requests of a BatchWriteItem, the items of a
 * transaction. Query and Scan are left out (what they read is in the response, not the call).
 */
export class ItemCounter {
  private read = 0
  private written = 0

  attach(client: { middlewareStack: { add(middleware: never, options: never): void } }): void {
    type Args = { input: Record<string, unknown> }
    const middleware = (next: (args: Args) => Promise<unknown>, context: { commandName?: string }) => (args: Args) => {
      this.count(context.commandName ?? '', args.input)
      return next(args)
    }
    ;(client.middlewareStack as unknown as { add(m: typeof middleware, o: object): void }).add(middleware, {
      step: 'initialize',
      name: 'benchItemCounter',
      override: true,
    })
  }

  snapshot(): ItemCounts {
    return { read: this.read, written: this.written }
  }

  since(before: ItemCounts): ItemCounts {
    return { read: this.read - before.read, written: this.written - before.written }
  }

  private count(command: string, input: Record<string, unknown>): void {
    const requestItems = (input.RequestItems ?? {}) as Record<string, unknown>
    switch (command) {
      case 'GetItemCommand':
        this.read++
        break
      case 'PutItemCommand':
      case 'UpdateItemCommand':
      case 'DeleteItemCommand':
        this.written++
        break
      case 'BatchGetItemCommand':
        for (const t of Object.values(requestItems)) this.read += ((t as { Keys?: unknown[] }).Keys ?? []).length
        break
      case 'BatchWriteItemCommand':
        for (const t of Object.values(requestItems)) this.written += (t as unknown[]).length
        break
      case 'TransactGetItemsCommand':
        this.read += ((input.TransactItems ?? []) as unknown[]).length
        break
      case 'TransactWriteItemsCommand':
        this.written += ((input.TransactItems ?? []) as unknown[]).length
        break
    }
  }
}

/**
 * The rep's cost columns: requests per message by kind, items and billed units per message, each
 * API's count, and with `invocations` (how a Lambda host would run it) dollars per million messages.
 */
export function costMetrics(counts: Pick<RequestCounts, 'byApi'> & { total: { requests: number; errors: number } }, items: ItemCounts, messages: number, invocations?: Invocations): Record<string, number> {
  const sum = (apis: readonly string[]) => apis.reduce((n, api) => n + (counts.byApi[api]?.requests ?? 0), 0)
  const units = (apis: readonly string[]) => apis.reduce((n, api) => n + (counts.byApi[api]?.units ?? 0), 0)
  const bytes = (apis: readonly string[]) => apis.reduce((n, api) => n + (counts.byApi[api]?.requestBytes ?? 0), 0)
  const per = (x: number) => round(x / messages)
  // Six decimals: a hot key's units per message are a few ten-thousandths, and they are priced.
  const per6 = (x: number) => Math.round((x / messages) * 1e6) / 1e6
  const listed = Object.fromEntries(LISTED.map((api) => [`req.${api}`, counts.byApi[api]?.requests ?? 0]))
  // Where the billed units go, per message: the APIs that have any.
  const unitsByApi = Object.fromEntries([...PUT_APIS, ...WRITE_APIS, ...READ_APIS].filter((api) => (counts.byApi[api]?.units ?? 0) > 0).map((api) => [`units.${api}`, per6(counts.byApi[api]!.units)]))
  const other = counts.total.requests - LISTED.reduce((n, api) => n + (counts.byApi[api]?.requests ?? 0), 0)
  const billed = { kinesis_put_units_per_msg: per6(units(PUT_APIS)), dynamodb_wru_per_msg: per6(units(WRITE_APIS)), dynamodb_rru_per_msg: per6(units(READ_APIS)) }
  return {
    requests: counts.total.requests,
    requests_per_msg: per(counts.total.requests),
    putrecords_per_msg: per(sum(PUT_APIS)),
    dynamodb_writes_per_msg: per(sum(WRITE_APIS)),
    dynamodb_reads_per_msg: per(sum(READ_APIS)),
    kinesis_reads_per_msg: per(sum(KINESIS_READ_APIS)),
    dynamodb_write_items_per_msg: per(items.written),
    dynamodb_read_items_per_msg: per(items.read),
    dynamodb_write_bytes_per_msg: Math.round(bytes(WRITE_APIS) / messages),
    ...billed,
    ...(invocations ? repDollars(billed, invocations) : {}),
    request_errors: counts.total.errors,
    ...listed,
    'req.other': other,
    ...unitsByApi,
  }
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000
}
