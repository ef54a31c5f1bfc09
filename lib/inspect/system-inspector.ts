// Inspection over a running system in this process (the embedded mode, or an AwsSystem's own
// view): counts and state from the System API, messages and traces from its event stream.
import { JOINER } from '../../actors/joiner.js'
import type { ActorClass } from '../core/actor.js'
import type { Pause, System } from '../core/system.js'
import type { DeadLetter } from '../core/dead-letter.js'
import type { ActorRow, CostView, DeadRow, GraphView, Inspector, InspectorSource, InstanceRow, JoinRow, MessageNode, MessageView, Page, TraceNode } from './inspector.js'
import { pendingJoins } from './pending-joins.js'
import { causesOf, traceTree } from './trace-tree.js'
import { TrafficLog } from './traffic-log.js'

/** How long a reading of the pauses is shown before it is read again. */
const PAUSES_FRESH_MS = 3_000

export interface SystemInspectorOptions {
  /** The system's actor classes, to draw a machine actor's statechart. */
  actors?: readonly ActorClass[]
  /** Messages remembered for traces. @default 20_000 */
  messageLimit?: number
}

export class SystemInspector implements Inspector {
  readonly log: TrafficLog
  private readonly startedAt: number
  /** Pauses as last read: on AWS reading them scans the table, and the web view asks every second. */
  private cached: { at: number; pauses: Promise<Pause[]> } | undefined

  constructor(
    readonly system: System,
    private readonly options: SystemInspectorOptions = {},
  ) {
    this.log = new TrafficLog(system, options.messageLimit)
    this.startedAt = system.clock.now()
  }

  async actors(): Promise<ActorRow[]> {
    const snapshot = this.system.inspect()
    const pauses = await this.pauses()
    const dead = await this.system.deadLetters()
    return snapshot.actors.map((a) => ({
      type: a.type,
      kind: a.kind,
      instances: a.instances,
      processed: a.counts.done + a.counts.filtered,
      retried: a.counts.retried,
      dead: dead.filter((d) => d.envelope.type === a.type).length,
      queued: a.queued,
      throttled: a.counts.throttled,
      running: a.running,
      ...(a.parked !== undefined ? { parked: a.parked } : {}),
      ...(a.oldestParkedAt !== undefined ? { oldestParkedAt: a.oldestParkedAt } : {}),
      ...(a.iteratorAgeMs !== undefined ? { iteratorAgeMs: a.iteratorAgeMs } : {}),
      paused: pauses.some((p) => p.type === a.type && p.key === undefined),
      pausedKeys: pauses.filter((p) => p.type === a.type && p.key !== undefined).map((p) => p.key!),
      ...(a.lastActivityAt !== undefined ? { lastActivityAt: a.lastActivityAt } : {}),
    }))
  }

  async instance(type: string, key: string): Promise<InstanceRow | undefined> {
    const live = this.system.instances(type).find((i) => i.key === key)
    const pauses = await this.pauses()
    const paused = pauses.some((p) => p.type === type && (p.key === undefined || p.key === key))
    if (live) return row(live, paused, this.log.doneFor(type, key))
    const state = await this.system.state(type as unknown as ActorClass, key)
    return state === undefined ? undefined : { type, key, state, paused, recent: this.log.doneFor(type, key) }
  }

  async instances(type: string, options: { limit?: number; after?: string; search?: string } = {}): Promise<Page<InstanceRow>> {
    const limit = Math.max(1, options.limit ?? 50)
    const pauses = await this.pauses()
    // A stateless type keeps no instance: its one mailbox is no state to list (its counts are in actors()).
    const stateless = this.system.inspect().actors.find((a) => a.type === type)?.kind === 'stateless'
    const all = (stateless ? [] : this.system.instances(type))
      .filter((i) => options.search === undefined || i.key.includes(options.search))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const from = options.after === undefined ? 0 : all.findIndex((i) => i.key > options.after!)
    const slice = from < 0 ? [] : all.slice(from, from + limit)
    const items = slice.map((i) => row(i, pauses.some((p) => p.type === type && (p.key === undefined || p.key === i.key)), this.log.doneFor(type, i.key)))
    const last = slice.at(-1)
    return { items, ...(last !== undefined && from + limit < all.length ? { next: last.key } : {}) }
  }

  async message(id: string): Promise<MessageView | undefined> {
    const message = await this.node(id)
    if (!message) return undefined
    const causes = await causesOf(message, (p) => this.node(p))
    return { message, causes, caused: this.log.childrenOf(id) }
  }

  /** What the log saw of a message, with its receipt's history when one was kept. */
  private async node(id: string): Promise<MessageNode | undefined> {
    const seen = this.log.get(id)
    const receipt = await this.system.receipt(id)
    if (!seen && !receipt) return undefined
    if (!receipt) return seen
    return {
      ...(seen ?? { id, type: receipt.actor, key: receipt.key }),
      status: receipt.status,
      attempts: receipt.attempts,
      history: receipt.history,
    } as MessageNode
  }

  async trace(correlationId: string): Promise<TraceNode[]> {
    return traceTree(this.log.ofCorrelation(correlationId))
  }

  async dead(type?: string): Promise<DeadRow[]> {
    return (await this.system.deadLetters(type === undefined ? undefined : { type })).map(deadRow)
  }

  replay(id: string): Promise<string> {
    return this.system.replay(id)
  }

  async joins(): Promise<JoinRow[]> {
    return pendingJoins(this.system.instances(JOINER), await this.system.timers())
  }

  timers() {
    return this.system.timers()
  }

  async cost(): Promise<CostView | undefined> {
    const cost = this.system.inspect().cost
    if (!cost) return undefined
    return { since: this.startedAt, ...cost, ...(cost.messages !== 0 ? { requestsPerMessage: Math.round((cost.requests / cost.messages) * 100) / 100 } : {}) }
  }

  async graph(): Promise<GraphView> {
    return this.log.graph(this.system.clock.now())
  }

  async pause(type: string, key?: string): Promise<void> {
    this.cached = undefined
    await this.system.pause(type, key)
    this.cached = undefined
  }

  async resume(type: string, key?: string): Promise<void> {
    this.cached = undefined
    await this.system.resume(type, key)
    this.cached = undefined
  }

  pauses(): Promise<Pause[]> {
    const now = Date.now()
    if (this.cached === undefined || now - this.cached.at > PAUSES_FRESH_MS) {
      const pauses = this.system.pauses()
      pauses.catch(() => (this.cached = undefined))
      this.cached = { at: now, pauses }
    }
    return this.cached.pauses
  }

  async machine(type: string): Promise<unknown> {
    return machineOf(this.options.actors, type)
  }

  /** An AwsSystem routes to streams; the embedded system has no router. */
  async describe(): Promise<InspectorSource> {
    const streams = (this.system as { router?: { streams?: string[] } }).router?.streams
    if (streams === undefined) return { mode: 'embedded', source: 'one process' }
    return { mode: 'aws', source: `one process, ${streams.length === 1 ? 'stream' : 'streams'} ${streams.join(', ')}` }
  }

  async close(): Promise<void> {
    this.log.stop()
  }
}

function row(i: { type: string; key: string; state: unknown; queued: number; lastMessageId: string | undefined; updatedAt: number | undefined }, paused: boolean, recent: string[]): InstanceRow {
  return {
    type: i.type,
    key: i.key,
    state: i.state,
    ...(i.lastMessageId !== undefined ? { lastMessageId: i.lastMessageId } : {}),
    ...(i.updatedAt !== undefined ? { updatedAt: i.updatedAt } : {}),
    paused,
    waiting: i.queued,
    recent,
  }
}

/** An xstate machine actor's definition, as `machine.toJSON()` gives it, for drawing its statechart. */
export function machineOf(actors: readonly ActorClass[] | undefined, type: string): unknown {
  const cls = actors?.find((a) => a.type === type) as { machine?: { toJSON?: () => unknown } } | undefined
  return cls?.machine?.toJSON?.()
}

export function deadRow(d: DeadLetter): DeadRow {
  return {
    id: d.envelope.id,
    type: d.envelope.type,
    key: d.envelope.key,
    correlationId: d.envelope.correlationId,
    error: { name: d.error.name, message: d.error.message, ...(d.error.code ? { code: d.error.code } : {}) },
    attempts: d.attempts.map((a) => ({ ...a, error: { name: a.error.name, message: a.error.message } })),
    deadAt: d.deadAt,
    body: d.envelope.body,
  }
}
