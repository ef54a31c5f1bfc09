// What a process saw of its messages, learned from the system's event stream: each message's
// statuses, who sent it, the request it belongs to, and message rates between actor types.
// Bounded: the oldest messages are forgotten past `limit`.
import type { Envelope } from '../core/envelope.js'
import type { TroupeEvent } from '../core/inspection.js'
import type { MessageStatus } from '../core/receipt.js'
import type { System } from '../core/system.js'
import { errorRecord } from '../core/dead-letter.js'
import type { GraphView, MessageNode } from './inspector.js'

/** Messages remembered by default. */
const DEFAULT_LIMIT = 20_000
/** Edge rates are over this window. */
const RATE_WINDOW_MS = 10_000
/** Messages remembered per instance as the ones that changed it. */
const RECENT_PER_INSTANCE = 20
/** Where a message comes from when nothing in the system sent it. */
export const OUTSIDE = '(outside)'

interface Edge {
  from: string
  to: string
  count: number
  /** Send times within the rate window, oldest first. */
  recent: number[]
}

export class TrafficLog {
  private readonly messages = new Map<string, MessageNode>()
  private readonly byCorrelation = new Map<string, Set<string>>()
  private readonly children = new Map<string, Set<string>>()
  private readonly edges = new Map<string, Edge>()
  private readonly nodes = new Map<string, number>()
  /** Type and key → ids of the messages done there, oldest first. */
  private readonly doneAt = new Map<string, string[]>()
  private readonly listeners = new Set<(event: TroupeEvent) => void>()
  private readonly unsubscribe: () => void

  constructor(
    system: Pick<System, 'on'>,
    private readonly limit = DEFAULT_LIMIT,
  ) {
    this.unsubscribe = system.on((event) => this.record(event))
  }

  /** Another listener of what this log hears (the web view's live updates). */
  onEvent(listener: (event: TroupeEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  stop(): void {
    this.unsubscribe()
    this.listeners.clear()
  }

  get(id: string): MessageNode | undefined {
    const m = this.messages.get(id)
    return m && { ...m, history: m.history.map((e) => ({ ...e })) }
  }

  childrenOf(id: string): MessageNode[] {
    return [...(this.children.get(id) ?? [])].map((c) => this.get(c)).filter((m): m is MessageNode => m !== undefined)
  }

  ofCorrelation(correlationId: string): MessageNode[] {
    return [...(this.byCorrelation.get(correlationId) ?? [])].map((c) => this.get(c)).filter((m): m is MessageNode => m !== undefined)
  }

  /** The messages done at one instance, newest first: the last few the log still remembers. */
  doneFor(type: string, key: string): string[] {
    return [...(this.doneAt.get(instanceKey(type, key)) ?? [])].reverse()
  }

  graph(now: number): GraphView {
    const edges = [...this.edges.values()].map((e) => {
      while (e.recent.length !== 0 && e.recent[0]! < now - RATE_WINDOW_MS) e.recent.shift()
      return { from: e.from, to: e.to, count: e.count, perSecond: Math.round((e.recent.length / (RATE_WINDOW_MS / 1000)) * 10) / 10 }
    })
    return { nodes: [...this.nodes].map(([type, count]) => ({ type, count })), edges }
  }

  private record(event: TroupeEvent): void {
    if (event.type !== '@troupe.throttled') this.update(event)
    for (const l of this.listeners) l(event)
  }

  private update(event: Exclude<TroupeEvent, { type: '@troupe.throttled' }>): void {
    const envelope = event.envelope
    let m = this.messages.get(envelope.id)
    // A host that reports only commits (the AWS mode) shows a message first at its end.
    if (m === undefined) m = this.add(envelope, event.at)
    const status = STATUS[event.type]
    m.status = status
    m.attempts = Math.max(m.attempts, envelope.attempt)
    const entry = { status, at: event.at, attempt: envelope.attempt }
    if (event.type === '@troupe.retried' || event.type === '@troupe.dead') {
      const error = errorRecord(event.error)
      m.error = { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}) }
      m.history.push({ ...entry, reason: error.message })
    } else if (event.type === '@troupe.filtered') {
      m.history.push({ ...entry, reason: event.reason })
    } else {
      m.history.push(entry)
    }
    if (event.type === '@troupe.done') {
      m.durationMs = event.durationMs
      this.done(m)
    }
    if (event.type === '@troupe.replayed') delete m.error
  }

  private add(envelope: Envelope, at: number): MessageNode {
    const m: MessageNode = {
      id: envelope.id,
      type: envelope.type,
      key: envelope.key,
      correlationId: envelope.correlationId,
      ...(envelope.parentId !== undefined ? { parentId: envelope.parentId } : {}),
      status: 'accepted',
      attempts: 0,
      sentAt: envelope.sentAt,
      history: [],
    }
    this.messages.set(m.id, m)
    let set = this.byCorrelation.get(envelope.correlationId)
    if (!set) this.byCorrelation.set(envelope.correlationId, (set = new Set()))
    set.add(m.id)
    const from = envelope.parentId === undefined ? OUTSIDE : (this.messages.get(envelope.parentId)?.type ?? OUTSIDE)
    if (envelope.parentId !== undefined) {
      let kids = this.children.get(envelope.parentId)
      if (!kids) this.children.set(envelope.parentId, (kids = new Set()))
      kids.add(m.id)
    }
    const name = `${from}\u0000${envelope.type}`
    let edge = this.edges.get(name)
    if (!edge) this.edges.set(name, (edge = { from, to: envelope.type, count: 0, recent: [] }))
    edge.count++
    edge.recent.push(at)
    if (edge.recent.length > 10_000) edge.recent.shift()
    this.nodes.set(envelope.type, (this.nodes.get(envelope.type) ?? 0) + 1)
    if (this.messages.size > this.limit) this.forget()
    return m
  }

  private done(m: MessageNode): void {
    const name = instanceKey(m.type, m.key)
    let ids = this.doneAt.get(name)
    if (!ids) this.doneAt.set(name, (ids = []))
    if (ids.includes(m.id)) return
    ids.push(m.id)
    if (ids.length > RECENT_PER_INSTANCE) ids.shift()
  }

  /** Drops the oldest message (Map keeps insertion order). */
  private forget(): void {
    const [id, m] = this.messages.entries().next().value!
    this.messages.delete(id)
    this.children.delete(id)
    const set = m.correlationId === undefined ? undefined : this.byCorrelation.get(m.correlationId)
    set?.delete(id)
    if (set?.size === 0) this.byCorrelation.delete(m.correlationId!)
    if (m.parentId !== undefined) this.children.get(m.parentId)?.delete(id)
    // What is forgotten is no longer shown anywhere, so the instance's list lets it go too.
    const name = instanceKey(m.type, m.key)
    const ids = this.doneAt.get(name)
    const at = ids?.indexOf(id) ?? -1
    if (at >= 0) ids!.splice(at, 1)
    if (ids?.length === 0) this.doneAt.delete(name)
  }
}

function instanceKey(type: string, key: string): string {
  return `${type}\u0000${key}`
}

const STATUS: Record<Exclude<TroupeEvent, { type: '@troupe.throttled' }>['type'], MessageStatus> = {
  '@troupe.accepted': 'accepted',
  '@troupe.delivered': 'running',
  '@troupe.done': 'done',
  '@troupe.retried': 'retrying',
  '@troupe.filtered': 'filtered',
  '@troupe.dead': 'dead',
  '@troupe.replayed': 'accepted',
}
