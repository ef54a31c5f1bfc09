// Inspection over the AWS mode's DynamoDB table itself (local or real), without a running
// system: state page by page (Scan, never the whole table in memory), receipts and traces from
// the journal, dead letters, joins and timers. Replaying a dead letter and resuming a paused key
// put messages on the stream, so they need the Kinesis client and stream too.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { JOINER } from '../../actors/joiner.js'
import { FORK_RESULT } from '../../actors/fork-result.js'
import { TIMER } from '../../actors/timer.js'
import { isKeptForkResult } from './aws-fork.js'
import { replayDeadLetter } from './dead-letter-replay.js'
import { DurablePauses } from './pauses.js'
import type { ActorClass } from '../core/actor.js'
import type { Envelope } from '../core/envelope.js'
import { eachAtOnce } from '../core/each-at-once.js'
import { ConfigError, NotPausableError, UnknownActorError } from '../core/errors.js'
import { decode } from '../core/serialization.js'
import { ActorType, type ActorKind } from '../turn/actor-type.js'
import { loadedState, shownState, type Versioned } from '../turn/state-version.js'
import type { Pause } from '../core/system.js'
import { PAUSE_TYPE } from '../hosts/durable/durable-host.js'
import { readMeta, type InstanceMeta } from '../hosts/durable/instance-meta.js'
import { isWaitingItem, WAIT_PREFIX } from '../hosts/durable/waiting-message.js'
import { withPending } from '../hosts/durable/pending-receipts.js'
import { STATELESS_SEEN } from '../hosts/durable/stateless-memory.js'
import { ProcessLane } from '../hosts/durable/process-lane.js'
import { Router } from '../routing/router.js'
import { defaultRecordCodec } from '../routing/record-codec.js'
import { isSuperjsonDocument } from '../routing/superjson-guard.js'
import { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import { DynamoDBTypeSlots } from '../store/dynamodb-type-slots.js'
import { DynamoDBSideEffects } from '../store/dynamodb-side-effects.js'
import { liveSlots } from '../hosts/durable/type-slots.js'
import { DynamoDBStateStore, DynamoDBTimerStore } from '../store/dynamodb.js'
import type { ReceiptRecord, StoredInstance, StoredReceipt, TraceLink } from '../store/index.js'
import { wholeHistory } from '../store/receipt-records.js'
import { KinesisTransport } from '../transport/kinesis.js'
import type { MetricsSource } from '../metrics/metrics-source.js'
import type { ActorRow, CostView, DeadRow, GraphView, Inspector, InspectorSource, InstanceRow, JoinRow, MessageNode, MessageView, Page, TraceNode } from '../inspect/inspector.js'
import { costOf, graphOf, withCounts } from '../inspect/metrics-view.js'
import { pendingJoins } from '../inspect/pending-joins.js'
import { deadRow, machineOf } from '../inspect/system-inspector.js'
import { causesOf, traceTree } from '../inspect/trace-tree.js'

/** troupe's own actor types, and their kinds. */
const BUILTIN_KINDS = new Map<string, ActorKind>([
  [JOINER, 'keyed'],
  [TIMER, 'keyed'],
  [FORK_RESULT, 'stateless'],
])

/** How long a receipt written by a replay is kept. */
const RECEIPT_TTL_MS = 24 * 60 * 60_000
/** Receipts read at once while assembling a trace. */
const READS_AT_ONCE = 16

export interface TableInspectorOptions {
  dynamodb: DynamoDBClient
  tableName: string
  /** For `replay` and `resume`, which put messages on the stream. */
  kinesis?: KinesisClient
  stream?: string
  /** The app's actor classes, to draw a machine actor's statechart. */
  actors?: readonly ActorClass[]
  /** What the hosts counted (CloudWatch for a deployed stack, troupe dev's collector locally): counts, traffic and cost. */
  metrics?: MetricsSource
}

export class TableInspector implements Inspector {
  private readonly state: DynamoDBStateStore
  private readonly timerStore: DynamoDBTimerStore
  private readonly journal: DynamoDBJournalStore
  private readonly transport: KinesisTransport | undefined
  private readonly pausing: DurablePauses
  private readonly slots: DynamoDBTypeSlots
  /** This process's lane: where its replays are put. */
  private readonly lane = new ProcessLane()
  /** The app's actor types by name, when given: a state of an older version shows migrated. */
  private readonly versioned = new Map<string, Versioned>()
  /**
   * The app's actor types' kinds, and troupe's own, when the app's classes are given: the table
   * alone does not say which types there are, nor which kind each is.
   */
  private readonly kinds = new Map<string, ActorKind>()
  /** Of those, the types that keep state: the ones a pause can hold messages for. */
  private readonly stateful = new Set<string>([JOINER, TIMER])

  constructor(private readonly options: TableInspectorOptions) {
    const table = { client: options.dynamodb, tableName: options.tableName }
    this.state = new DynamoDBStateStore(table)
    this.timerStore = new DynamoDBTimerStore(table)
    this.journal = new DynamoDBJournalStore(table)
    this.slots = new DynamoDBTypeSlots(table)
    this.transport =
      options.kinesis && options.stream ? new KinesisTransport({ client: options.kinesis, router: new Router({ defaultStream: options.stream }), lingerMs: 0 }) : undefined
    this.pausing = new DurablePauses(this.state, (envelope) => this.put(envelope, 'resume a paused key'), () => Date.now())
    if (options.actors !== undefined) for (const [type, kind] of BUILTIN_KINDS) this.kinds.set(type, kind)
    for (const cls of options.actors ?? []) {
      try {
        const type = new ActorType(cls)
        this.versioned.set(type.type, type)
        this.kinds.set(type.type, type.kind)
        if (type.stateful) this.stateful.add(type.type)
      } catch {
        // A class no system would take: its states show as stored.
      }
    }
  }

  async actors(): Promise<ActorRow[]> {
    const rows = new Map<string, ActorRow>()
    const rowOf = (type: string) => {
      let row = rows.get(type)
      if (!row) rows.set(type, (row = { type, instances: 0, dead: 0, paused: false, pausedKeys: [] }))
      return row
    }
    await this.eachInstance(undefined, (type, key, stored) => {
      if (type === PAUSE_TYPE) {
        rowOf(key).paused = true
        return
      }
      // The host's memory of stateless messages per shard: bookkeeping, not an actor's instance; it
      // says when the types that keep no item last ran.
      if (type === STATELESS_SEEN) {
        for (const [ran, at] of Object.entries(readMeta(stored.meta).meta.ran ?? {})) {
          // A type the app no longer runs gets no row from it, when the app's types are known.
          if (this.kinds.size !== 0 && !this.kinds.has(ran)) continue
          const row = rowOf(ran)
          if (row.lastActivityAt === undefined || at > row.lastActivityAt) row.lastActivityAt = at
        }
        return
      }
      const row = rowOf(type)
      const { meta, problem } = readMeta(stored.meta)
      // An item troupe cannot read (written by hand, or damaged) is counted and named (`state`), never a
      // failure of the rest. Its state is not read here (a page of large states): `state <type>` names those too.
      if (problem !== undefined || !Number.isFinite(stored.version)) row.unreadable = (row.unreadable ?? 0) + 1
      // A stateless message waiting for a token has an item of its own: parked, not an instance.
      if (!isDeleted(stored) && !isWaiting(key, meta, this.kinds.get(type))) row.instances++
      if (meta.paused) row.pausedKeys.push(key)
      if (meta.held) row.queued = (row.queued ?? 0) + meta.held.length
      if (meta.parked) {
        row.parked = (row.parked ?? 0) + meta.parked.length
        const oldest = Math.min(...meta.parked.map((e) => e.sentAt))
        if (row.oldestParkedAt === undefined || oldest < row.oldestParkedAt) row.oldestParkedAt = oldest
      }
      if (row.lastActivityAt === undefined || stored.updatedAt > row.lastActivityAt) row.lastActivityAt = stored.updatedAt
    })
    for (const letter of await this.journal.deadLetters()) rowOf(letter.envelope.type).dead++
    // Every type the app's system runs (troupe's own with them), whether or not it kept an item yet, as the system lists them.
    for (const type of this.kinds.keys()) rowOf(type)
    // A type under `policy.concurrency` has an item of its slots: its live leases are its turns under
    // way on every host. The app's capped types get a row even before their first commit.
    for (const cls of this.options.actors ?? []) if ((cls as { policy?: { concurrency?: unknown } }).policy?.concurrency !== undefined) rowOf(cls.type)
    await Promise.all(
      [...rows.values()].map(async (row) => {
        const slots = await this.slots.read(row.type)
        if (slots !== undefined) row.running = liveSlots(slots, Date.now())
      }),
    )
    const sorted = [...rows.values()].sort((a, b) => (a.type < b.type ? -1 : 1))
    const counted = this.options.metrics ? await withCounts(sorted, this.options.metrics) : sorted
    for (const row of counted) {
      const kind = this.kinds.get(row.type)
      if (kind !== undefined) row.kind = kind
    }
    return counted
  }

  async instance(type: string, key: string): Promise<InstanceRow | undefined> {
    this.known(type)
    const stored = await this.state.get(type, key)
    if (!stored || isDeleted(stored)) return undefined
    const row = this.row(type, key, stored, readMeta(stored.meta))
    return { ...row, paused: row.paused === true || (await this.state.get(PAUSE_TYPE, type)) !== undefined }
  }

  async instances(type: string, options: { limit?: number; after?: string; search?: string } = {}): Promise<Page<InstanceRow>> {
    this.known(type)
    const page = await this.state.scan(type, options)
    const typePaused = (await this.state.get(PAUSE_TYPE, type)) !== undefined
    const items: InstanceRow[] = []
    for (const i of page.items) {
      if (isDeleted(i.stored)) continue
      // Read once: whether it is an instance at all, and its row.
      const read = readMeta(i.stored.meta)
      if (isWaiting(i.key, read.meta, this.kinds.get(i.type))) continue
      const row = this.row(i.type, i.key, i.stored, read)
      items.push(typePaused ? { ...row, paused: true } : row)
    }
    return { items, ...(page.next !== undefined ? { next: page.next } : {}) }
  }

  /** The row of an instance item, its bookkeeping read already (`readMeta`). */
  private row(type: string, key: string, stored: StoredInstance, { meta, problem }: ReturnType<typeof readMeta>): InstanceRow {
    const shown = this.shown(type, key, stored)
    const last = meta.recent.at(-1)
    const versioned = Number.isFinite(stored.version)
    const badSv = stored.unreadableVersion === undefined ? undefined : `its state version (sv) holds ${stored.unreadableVersion}, not a positive whole number`
    const problems = [problem, shown.problem, versioned ? undefined : 'it has no version (v)', badSv].filter((p) => p !== undefined)
    return {
      type,
      key,
      state: shown.state,
      ...(versioned ? { version: stored.version } : {}),
      ...(badSv === undefined ? { stateVersion: stored.stateVersion ?? 1 } : {}),
      ...(last !== undefined ? { lastMessageId: last } : {}),
      updatedAt: stored.updatedAt,
      paused: meta.paused === true,
      // Held while it or its type is paused, and parked for a token, a slot or a retry: as an embedded instance's queue counts them.
      waiting: (meta.held?.length ?? 0) + (meta.parked?.length ?? 0),
      // Kept by the host to recognise copies of messages without an origin: a best effort, often empty.
      recent: [...meta.recent].reverse(),
      ...(problems.length !== 0 ? { unreadable: problems.join('; ') } : {}),
    }
  }

  /**
   * A stored state as inspection shows it: migrated in memory when it is of an older version of a
   * known actor. One troupe cannot read (written by hand, or damaged) shows as none, with why.
   */
  private shown(type: string, key: string, stored: StoredInstance): { state: unknown; problem?: string } {
    const of = this.versioned.get(type)
    try {
      if (!isSuperjsonText(stored.state)) return { state: undefined, problem: 'its state is not as troupe writes it (no superjson document)' }
      return { state: of === undefined ? decode(stored.state) : shownState(of, key, loadedState(of, stored)) }
    } catch (error) {
      return { state: undefined, problem: `its state cannot be read: ${error instanceof Error ? error.message : String(error)}` }
    }
  }

  /** Calls `fn` on every instance item of the table (or of one type), a page at a time. */
  private async eachInstance(type: string | undefined, fn: (type: string, key: string, stored: StoredInstance) => void): Promise<void> {
    let after: string | undefined
    do {
      const page = await this.state.scan(type, { limit: 500, ...(after === undefined ? {} : { after }) })
      for (const i of page.items) fn(i.type, i.key, i.stored)
      after = page.next
    } while (after !== undefined)
  }

  async message(id: string): Promise<MessageView | undefined> {
    const message = await this.node(id)
    if (!message) return undefined
    const causes = await causesOf(message, (p) => this.node(p))
    let caused: MessageNode[] = []
    if (message.correlationId !== undefined) {
      const links = (await this.journal.trace(message.correlationId, Date.now())).filter((l) => l.parentId === id)
      caused = (await this.nodes(links)).sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0))
    }
    return { message, causes, caused }
  }

  private async node(id: string, link?: TraceLink): Promise<MessageNode | undefined> {
    const receipt = await withPending(() => this.journal.receipt(id, Date.now()), (type, key) => this.state.get(type, key))
    if (!receipt || isKeptForkResult(receipt)) return undefined
    return toNode(receipt, link)
  }

  private async nodes(links: readonly TraceLink[]): Promise<MessageNode[]> {
    return eachAtOnce(links, READS_AT_ONCE, async (link): Promise<MessageNode> => {
      const node = await this.node(link.id, link)
      return node ?? { id: link.id, type: link.actor, key: link.key, correlationId: link.correlationId, ...(link.parentId !== undefined ? { parentId: link.parentId } : {}), status: 'unknown', attempts: 0, sentAt: link.sentAt, history: [] }
    })
  }

  async trace(correlationId: string): Promise<TraceNode[]> {
    return traceTree(await this.nodes(await this.journal.trace(correlationId, Date.now())))
  }

  async dead(type?: string): Promise<DeadRow[]> {
    return (await this.journal.deadLetters(type)).map(deadRow)
  }

  async replay(id: string): Promise<string> {
    const what = `replay dead letter ${id}`
    const envelope = await replayDeadLetter(
      {
        journal: this.journal,
        state: this.state,
        lane: this.lane,
        codec: defaultRecordCodec,
        where: `in table ${this.options.tableName}`,
        // Either way something goes on the stream: without one, say so before anything is written.
        sender: () => {
          const transport = this.sender(what)
          return { streams: [this.options.stream!], putData: (record, about) => transport.putData(record, about), send: (envelope) => this.put(envelope, what) }
        },
        accepted: acceptedReceipt,
        keepsState: (type) => (this.kinds.has(type) ? this.stateful.has(type) : undefined),
        now: Date.now,
        sideEffects: new DynamoDBSideEffects({ client: this.options.dynamodb, tableName: this.options.tableName }),
      },
      id,
    )
    return envelope.id
  }

  async joins(): Promise<JoinRow[]> {
    const joiners: { key: string; state: unknown }[] = []
    const unreadable: JoinRow[] = []
    await this.eachInstance(JOINER, (_type, key, stored) => {
      const shown = this.shown(JOINER, key, stored)
      if (shown.problem === undefined) joiners.push({ key, state: shown.state })
      else unreadable.push({ forkId: key, join: '', total: 0, received: 0, missing: [], unreadable: shown.problem })
    })
    return [...pendingJoins(joiners, await this.timerStore.list()), ...unreadable]
  }

  timers() {
    return this.timerStore.list()
  }

  /** Requests and traffic are counted by the hosts: known with a metrics source, not from the table. */
  async cost(): Promise<CostView | undefined> {
    return this.options.metrics && costOf(this.options.metrics)
  }

  async graph(): Promise<GraphView | undefined> {
    return this.options.metrics && graphOf(this.options.metrics)
  }

  async pause(type: string, key?: string): Promise<void> {
    await this.pausing.pause(this.pausable(type), key)
  }

  async resume(type: string, key?: string): Promise<void> {
    await this.pausing.resume(this.pausable(type), key)
  }

  /** With the app's classes given, a type they do not name is refused, as a running system refuses it. */
  private known(type: string): void {
    if (this.kinds.size !== 0 && !this.kinds.has(type)) throw new UnknownActorError(type, [...this.kinds.keys()].filter((t) => !BUILTIN_KINDS.has(t)), 'in this app')
  }

  /** A type a system could pause: known, and keeping state (a paused actor's messages wait in its instance's item). */
  private pausable(type: string): string {
    this.known(type)
    if (this.kinds.size !== 0 && !this.stateful.has(type)) throw new NotPausableError(type)
    return type
  }

  pauses(): Promise<Pause[]> {
    return this.pausing.list()
  }

  async machine(type: string): Promise<unknown> {
    return machineOf(this.options.actors, type)
  }

  async describe(): Promise<InspectorSource> {
    const { tableName, stream, metrics } = this.options
    return { mode: 'aws', source: `table ${tableName}${stream !== undefined ? `, stream ${stream}` : ''}${metrics !== undefined ? `; ${metrics.label}` : ''}` }
  }

  async close(): Promise<void> {
    await this.transport?.close()
  }

  private async put(envelope: Envelope, what: string): Promise<void> {
    const result = await this.sender(what).enqueue(envelope)
    if (result.status === 'failed') throw result.error
    await this.sender(what).flush()
  }

  private sender(what: string): KinesisTransport {
    if (!this.transport) throw new ConfigError(`to ${what}, troupe puts a message on the stream: pass the stream's name (--stream; TableInspector's stream and kinesis) and, for a local Kinesis, its endpoint (--kinesis-endpoint)`)
    return this.transport
  }
}

/** The entry a replayed message's receipt starts again with (a system's host writes the same, with its own TTL). */
function acceptedReceipt(envelope: Envelope): ReceiptRecord {
  const at = Date.now()
  return {
    id: envelope.id,
    actor: envelope.type,
    key: envelope.key,
    entry: { status: 'accepted', at, attempt: 0 },
    expiresAt: at + RECEIPT_TTL_MS,
    trace: { correlationId: envelope.correlationId, sentAt: envelope.sentAt, ...(envelope.parentId !== undefined ? { parentId: envelope.parentId } : {}) },
  }
}

/** Whether `text` is a superjson document (`{ "json": … }`), as troupe writes every state; any other JSON would read as no state at all. */
function isSuperjsonText(text: unknown): boolean {
  return typeof text === 'string' && isSuperjsonDocument(JSON.parse(text))
}

/** An instance deleted by its actor keeps a tombstone item for a while (to recognise redeliveries). */
function isDeleted(stored: StoredInstance): boolean {
  return stored.expiresAt !== undefined
}

/**
 * A stateless message's waiting item (waiting-message.ts): an instance of a stateless type under
 * `wait:<id>`. Without the app's classes the kind is unknown, and the item is told by the message
 * it parks, which has no key: a keyed actor's own key may begin with `wait:` too.
 */
function isWaiting(key: string, meta: InstanceMeta, kind: ActorKind | undefined): boolean {
  if (kind !== undefined) return isWaitingItem({ kind }, key)
  const parked = meta.parked ?? []
  return key.startsWith(WAIT_PREFIX) && parked.length !== 0 && parked.every((e) => e.key === '')
}

function toNode(receipt: StoredReceipt, link: TraceLink | undefined): MessageNode {
  const trace = receipt.trace ?? (link && { correlationId: link.correlationId, sentAt: link.sentAt, ...(link.parentId !== undefined ? { parentId: link.parentId } : {}) })
  const first = receipt.history[0]?.at
  const last = receipt.history.at(-1)
  const running = receipt.history.findLast((e) => e.status === 'running')
  return {
    id: receipt.id,
    type: receipt.actor,
    key: receipt.key,
    ...(trace ? { correlationId: trace.correlationId, sentAt: trace.sentAt } : first !== undefined ? { sentAt: first } : {}),
    ...(trace?.parentId !== undefined ? { parentId: trace.parentId } : {}),
    status: receipt.status,
    attempts: receipt.attempts,
    ...(running && last && last !== running ? { durationMs: last.at - running.at } : {}),
    history: wholeHistory(receipt),
    ...(receipt.error ? { error: { name: receipt.error.name, message: receipt.error.message } } : {}),
  }
}
