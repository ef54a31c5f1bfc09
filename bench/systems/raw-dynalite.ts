// The limit for all-distinct keys: what the local DynamoDB does with one conditional write per
// message and nothing else (no Kinesis, no troupe). Each message is a PutItem of { pk, count, v }
// under a version condition (attribute_not_exists(pk) for a key's first message, v = :prev after),
// the write troupe's durable host makes per instance per batch; 16 in flight, the way a fleet
// of handlers writes. A key's writes go one after another (the next needs the last version).
import { BatchGetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { awsRun, closeServers, createPlainTable } from './aws-stack.js'
import { signal, type BenchSystem } from './system.js'

/** Conditional writes in flight. */
const IN_FLIGHT = 16

export const rawDynalite: BenchSystem = {
  name: 'raw-dynalite',
  notes: {
    W2: `conditional PutItem per message ({ pk, count, v }, condition attribute_not_exists(pk) or v = :prev), ${IN_FLIGHT} in flight, a key's writes in order; dynalite in its own process, in memory. W2D (one message per key) is the limit for all-distinct keys`,
  },

  async W2(keys, perActor) {
    const run = await awsRun('dynalite')
    await createPlainTable(run.dynamodb, run.tableName)
    run.mark()
    const table = run.tableName
    const expected = keys.length * perActor
    const finished = signal()
    let failWith!: (e: unknown) => void
    const failed = new Promise<never>((_, reject) => (failWith = reject))
    failed.catch(() => {})
    /** Per key: its count and version as written, and its messages not yet written. */
    const state = new Map<string, { count: number; v: number; queued: number[]; busy: boolean }>()
    /** Keys with queued messages and no write in flight, in arrival order. */
    const ready: string[] = []
    let inFlight = 0
    let written = 0
    let cost: Record<string, number> | undefined

    const pump = () => {
      while (inFlight < IN_FLIGHT && ready.length > 0) {
        const key = ready.shift()!
        const s = state.get(key)!
        const by = s.queued.shift()!
        s.busy = true
        inFlight++
        const next = { count: s.count + by, v: s.v + 1 }
        run.dynamodb
          .send(
            new PutItemCommand({
              TableName: table,
              Item: { pk: { S: key }, count: { N: String(next.count) }, v: { N: String(next.v) } },
              ...(s.v === 0
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: 'v = :prev', ExpressionAttributeValues: { ':prev': { N: String(s.v) } } }),
            }),
          )
          .then(() => {
            s.count = next.count
            s.v = next.v
            s.busy = false
            inFlight--
            if (s.queued.length > 0) ready.push(key)
            if (++written === expected) finished.resolve()
            pump()
          }, failWith)
      }
    }

    return {
      send: (key, by) => {
        let s = state.get(key)
        if (!s) state.set(key, (s = { count: 0, v: 0, queued: [], busy: false }))
        s.queued.push(by)
        if (!s.busy && s.queued.length === 1) ready.push(key)
        pump()
      },
      done: async () => {
        await Promise.race([finished.promise, failed])
        cost = run.metrics(expected)
      },
      total: async () => {
        let total = 0
        for (let i = 0; i < keys.length; i += 100) {
          let pending: Record<string, AttributeValue>[] = keys.slice(i, i + 100).map((k) => ({ pk: { S: k } }))
          while (pending.length > 0) {
            const out = await run.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }))
            for (const item of out.Responses?.[table] ?? []) total += Number(item.count?.N ?? 0)
            pending = out.UnprocessedKeys?.[table]?.Keys ?? []
          }
        }
        return total
      },
      // Taken when the last write landed, before the read-back.
      metrics: () => cost ?? {},
      teardown: run.teardown,
    }
  },

  close: closeServers,
}
