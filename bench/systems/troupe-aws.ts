// troupe's AWS mode on the local servers: AwsSystem with the same Counter actors as the embedded
// adapter, Kinesis carrying every message and DynamoDB holding the state, the turns run in this
// process by the shard consumer (a container deployment, `troupe dev`). End to end: the clock
// runs from the first tell until the last message's turn has committed.
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { decode } from '../../lib/core/serialization.js'
import { Actor, type ActorClass, type Context, type InOf, type Joined } from '../../lib/index.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { modelledInvocations } from '../cost.js'
import { FLOW_BATCH_SIZE, POLL_MS, SHARDS } from './aws-settings.js'
import { awsRun, closeServers, type AwsRun } from './aws-stack.js'
import { AskCounter, Counter, KeyedCounter, type Count } from './counters.js'
import { signal, type BenchSystem } from './system.js'
import type { Ordering } from '../../lib/transport/partition-queue.js'

/** How long a tell waits for others to share its PutRecords call (AwsSystem's default). */
const LINGER_MS = 10
/** A saga's join deadline: generous, as a user would set it; never reached. */
const JOIN_TIMEOUT_MS = 30_000

const SETTINGS = `AwsSystem on kinesalite + dynalite (own process, in memory), stream of ${SHARDS} shards, pollMs ${POLL_MS}, lingerMs ${LINGER_MS}, checkSerializable false, other options default (consumer batch 1,000 records, checkpoint after every batch, strict per-key ordering)`

/**
 * Flow control for the line of what it costs (bench/README.md, "Flow control"): none, a type's rate
 * (`policy.throttle`) or a cap on its turns at once (`policy.concurrency`), each far above what the
 * bench's hosts run, so it holds nothing back and only its bookkeeping is paid.
 */
export type Flow = 'none' | 'throttle' | 'cap'
/** A rate no host here reaches: every claim is served at once. */
const OPEN_RATE = { ratePerSecond: 1_000_000, burst: 1_000_000 }
/** A cap above the instances a host runs at once (32): every claim gets the slots it asks for. */
const OPEN_CAP = 10_000

/** W2's keyed counter, under the flow control asked for (the same type name and turns). */
function keyedCounter(flow: Flow): typeof KeyedCounter {
  if (flow === 'none') return KeyedCounter
  const policy = flow === 'throttle' ? { throttle: OPEN_RATE } : { concurrency: OPEN_CAP }
  return class FlowCounter extends KeyedCounter {
    static readonly policy = policy
  }
}

/** A started system on a fresh stream and table, counting from after its start. */
async function start(label: string, actors: readonly ActorClass[], ordering: Ordering, batchSize?: number) {
  const run = await awsRun(label)
  await createTable(run.dynamodb, run.tableName)
  const system = newSystem(run, actors, ordering, batchSize)
  let done = 0
  let target = Infinity
  const finished = signal()
  let failWith!: (e: unknown) => void
  const failed = new Promise<never>((_, reject) => (failWith = reject))
  failed.catch(() => {})
  system.on((event) => {
    if (event.type === '@troupe.done' && ++done >= target) finished.resolve()
    if (event.type === '@troupe.dead') failWith(new Error(`message dead-lettered: ${String((event as { error?: unknown }).error)}`))
  })
  // Everything running and every shard read to its tip: what comes after is the workload.
  await system.idle()
  run.mark()
  const hostBefore = hostWork(system)
  let cost: Record<string, number> | undefined
  return {
    run,
    system,
    tell<C extends ActorClass>(actor: C, body: InOf<C>) {
      system.tell(actor, body).catch(failWith)
    },
    /** Resolves once `n` turns have committed (a commit is what makes a message done on AWS). */
    done(n: number) {
      target = n
      if (done >= target) finished.resolve()
      return Promise.race([finished.promise, failed])
    },
    /**
     * Lets the last checkpoints land, then takes the cost of everything since the mark, per
     * message (per saga in W4S), with the Lambda invocations the consumer's batches would have been.
     */
    async settle(messages: number) {
      await system.idle()
      const host = hostWork(system)
      const batches = host.batches - hostBefore.batches
      cost = { ...run.metrics(messages, { invocations: modelledInvocations(batches, host.records - hostBefore.records, messages) }), done_per_msg: done / messages, consumer_batches: batches }
    },
    metrics: () => cost ?? {},
    async teardown() {
      await system.stop().catch(() => {})
      await run.teardown()
    },
  }
}

/** Batches and records the shard consumer has handed this process's host so far. */
function hostWork(system: AwsSystem): { batches: number; records: number } {
  let batches = 0
  let records = 0
  for (const s of system.consumer?.stats() ?? []) {
    batches += s.batches
    records += s.records
  }
  return { batches, records }
}

function newSystem(run: AwsRun, actors: readonly ActorClass[], ordering: Ordering, batchSize?: number): AwsSystem {
  return new AwsSystem({
    ...(batchSize !== undefined ? { consumer: { batchSize } } : {}),
    actors,
    kinesis: run.kinesis,
    dynamodb: run.dynamodb,
    tableName: run.tableName,
    stream: run.stream,
    pollMs: POLL_MS,
    lingerMs: LINGER_MS,
    requests: run.requests,
    ordering,
    checkSerializable: false,
    logLevel: 'error',
  })
}

/**
 * troupe-aws with strict per-key order (the default), troupe-aws-batched with `ordering: 'batched'`;
 * with `flow`, W2's counter under that flow control and the consumer's batches at `batchSize`.
 */
function troupeAwsSystem(name: string, ordering: Ordering, flow?: { control: Flow; batchSize: number }): BenchSystem {
  let settings = SETTINGS.replace('strict per-key ordering', `ordering '${ordering}'`)
  if (flow) settings = settings.replace('consumer batch 1,000 records', `consumer batch ${flow.batchSize} records`)
  const Keyed = keyedCounter(flow?.control ?? 'none')
  const keyedNote = flow?.control === 'throttle' ? `, with policy.throttle ${JSON.stringify(OPEN_RATE)} (a type's rate that holds nothing back)` : flow?.control === 'cap' ? `, with policy.concurrency ${OPEN_CAP} (a cap that holds nothing back)` : ''
  return {
    name,
    notes: {
      W1: `singleton Counter (initialState, no key): every message has one partition key, so one shard and one instance; producer calls system.tell(Counter, { by }) without awaiting; done when the n-th turn has committed. ${settings}`,
      W2: `keyed Counter (key(msg) = msg.k)${keyedNote}, partition key type#key, spread over the shards; done when every turn has committed. ${settings}`,
      W3: `await system.ask(AskCounter, { k: 'w3', by: 1 }) through the stream: the ask is put on Kinesis, the shard consumer runs the turn and commits the reply receipt, and ask reads it back from DynamoDB. ${settings}`,
      W4: `a saga of a fork and a join, 50 in flight: system.tell(Job, { x }); Job's turn does ctx.fork(fanout x [Child, { x, j }]).join(Sum, { timeoutMs: ${JOIN_TIMEOUT_MS}, value: x }); Child (stateless) replies x + j; Sum (stateless) resolves the caller's promise (a Map by x). ${settings}`,
    },

    async W1(n) {
      const s = await start('troupe', [Counter], ordering)
      return {
        send: (by) => s.tell(Counter, { by }),
        done: () => s.done(n),
        count: async () => {
          await s.settle(n)
          return ((await s.system.state(Counter)) as Count | undefined)?.count ?? -1
        },
        metrics: s.metrics,
        teardown: s.teardown,
      }
    },

    async W2(keys, perActor) {
      const s = await start('troupe', [Keyed], ordering, flow?.batchSize)
      const n = keys.length * perActor
      return {
        send: (k, by) => s.tell(Keyed, { k, by }),
        done: () => s.done(n),
        total: async () => {
          await s.settle(n)
          // Every counter, read back from the table (BatchGetItem, after the cost was taken).
          const store = new DynamoDBStateStore({ client: s.run.dynamodb, tableName: s.run.tableName })
          const stored = await store.getMany(keys.map((key) => ({ type: KeyedCounter.type, key })))
          return stored.reduce((sum, item) => sum + (item ? decode<Count>(item.state).count : 0), 0)
        },
        metrics: s.metrics,
        teardown: s.teardown,
      }
    },

    async W4(fanout) {
      const waiting = new Map<number, (sum: number) => void>()
      class Child extends Actor<{ x: number; j: number }, number> {
        static readonly type = 'sagaChild'
        receive(msg: Child['In']) {
          return msg.x + msg.j
        }
      }
      class Sum extends Actor<Joined<(typeof Child)[], number>> {
        static readonly type = 'sagaSum'
        receive(msg: Sum['In']) {
          if (!msg.complete) throw new Error(`W4S: join incomplete, missing ${JSON.stringify(msg.missing)}`)
          // A turn may run again (at least once): the first run answers the caller.
          waiting.get(msg.value)?.(msg.replies.reduce((a, b) => a + b, 0))
          waiting.delete(msg.value)
        }
      }
      class Job extends Actor<{ x: number }> {
        static readonly type = 'sagaJob'
        receive(msg: Job['In'], ctx: Context) {
          ctx.fork(Array.from({ length: fanout }, (_, j) => [Child, { x: msg.x, j }] as const)).join(Sum, { timeoutMs: JOIN_TIMEOUT_MS, value: msg.x })
        }
      }
      const s = await start('troupe', [Child, Sum, Job], ordering)
      let sagas = 0
      return {
        forkJoin: (x) =>
          new Promise<number>((resolve) => {
            sagas++
            waiting.set(x, resolve)
            s.tell(Job, { x })
          }),
        metrics: async () => {
          await s.settle(sagas)
          return s.metrics()
        },
        teardown: s.teardown,
      }
    },

    async W3() {
      const s = await start('troupe', [AskCounter], ordering)
      return {
        ask: () => s.system.ask(AskCounter, { k: 'w3', by: 1 }),
        teardown: s.teardown,
      }
    },

    close: closeServers,
  }
}

export const troupeAws = troupeAwsSystem('troupe-aws', 'strict')
export const troupeAwsBatched = troupeAwsSystem('troupe-aws-batched', 'batched')
/** The flow line's three: no flow control, a type throttle, a concurrency cap, each at batch size 100 (W2D only: W2's adapter). */
export const troupeAwsB100 = troupeAwsSystem('troupe-aws-b100', 'strict', { control: 'none', batchSize: FLOW_BATCH_SIZE })
export const troupeAwsB100Throttle = troupeAwsSystem('troupe-aws-b100-throttle', 'strict', { control: 'throttle', batchSize: FLOW_BATCH_SIZE })
export const troupeAwsB100Cap = troupeAwsSystem('troupe-aws-b100-cap', 'strict', { control: 'cap', batchSize: FLOW_BATCH_SIZE })
