// The Inspector of a process that serves inspection (`serveInspection`), read over HTTP: how
// `troupe inspect --url` and `troupe ui --url` reach an embedded system running elsewhere.
import superjson from 'superjson'
import type { Pause } from '../core/system.js'
import { ConfigError, TroupeError } from '../core/errors.js'
import { errorCodes, type ErrorCode } from '../core/error-codes.js'
import type { TimerRecord } from '../store/index.js'
import type { ActorRow, CostView, DeadRow, GraphView, Inspector, InspectorSource, InstanceRow, JoinRow, MessageView, Page, TraceNode } from './inspector.js'

export class HttpInspector implements Inspector {
  private readonly base: string

  constructor(
    url: string,
    private token?: string,
  ) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new ConfigError(`--url must be the http:// address the process serves inspection on, got ${JSON.stringify(url)}`)
    }
    this.base = parsed.origin
  }

  private async call<T>(method: 'GET' | 'POST', path: string, input?: Record<string, string | number | undefined>): Promise<T> {
    const url = new URL(path, this.base)
    const headers: Record<string, string> = {}
    if (method === 'POST') {
      // Actions need the token: a loopback server hands it to whoever can read its answers.
      this.token ??= (await this.call<{ token?: string }>('GET', '/api/session')).token
      headers['content-type'] = 'application/json'
    }
    if (this.token !== undefined) headers['x-troupe-token'] = this.token
    if (method === 'GET') for (const [k, v] of Object.entries(input ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    let res: Response
    try {
      res = await fetch(url, { method, headers, ...(method === 'POST' ? { body: JSON.stringify(input ?? {}) } : {}) })
    } catch (error) {
      throw new TroupeError('TROUPE_INSPECT_UNREACHABLE', `nothing answers at ${this.base} (${(error as Error).cause ?? (error as Error).message}); is the process serving inspection running?`, { cause: error })
    }
    const text = await res.text()
    let value: unknown
    try {
      value = superjson.deserialize(JSON.parse(text))
    } catch {
      throw new TroupeError('TROUPE_INSPECT_BAD_ANSWER', `${this.base}${path} answered ${res.status} with something that is not troupe's: ${text.slice(0, 200)}`)
    }
    if (!res.ok) {
      const { error, code } = (value ?? {}) as { error?: string; code?: string }
      // The server's own refusal keeps its code (TROUPE_REPLAY_UNDER_WAY, TROUPE_NO_DEAD_LETTER…).
      if (code !== undefined && Object.hasOwn(errorCodes, code)) throw new TroupeError(code as ErrorCode, `${this.base}${path}: ${(error ?? '').replace(/^\[TROUPE_[A-Z_]+\] /, '')}`)
      throw new TroupeError('TROUPE_INSPECT_REFUSED', `${this.base}${path}: ${error ?? res.status}`)
    }
    return value as T
  }

  actors() {
    return this.call<ActorRow[]>('GET', '/api/actors')
  }
  async instance(type: string, key: string) {
    return (await this.call<{ instance?: InstanceRow }>('GET', '/api/instance', { type, key })).instance
  }
  instances(type: string, options: { limit?: number; after?: string; search?: string } = {}) {
    return this.call<Page<InstanceRow>>('GET', '/api/instances', { type, ...options })
  }
  async message(id: string) {
    return (await this.call<{ message?: MessageView }>('GET', '/api/message', { id })).message
  }
  trace(correlationId: string) {
    return this.call<TraceNode[]>('GET', '/api/trace', { id: correlationId })
  }
  dead(type?: string) {
    return this.call<DeadRow[]>('GET', '/api/dead', { type })
  }
  async replay(id: string) {
    return (await this.call<{ id: string }>('POST', '/api/replay', { id })).id
  }
  joins() {
    return this.call<JoinRow[]>('GET', '/api/joins')
  }
  timers() {
    return this.call<TimerRecord[]>('GET', '/api/timers')
  }
  async cost() {
    return (await this.call<{ cost?: CostView }>('GET', '/api/cost')).cost
  }
  async graph() {
    return (await this.call<{ graph?: GraphView }>('GET', '/api/graph')).graph
  }
  async pause(type: string, key?: string) {
    await this.call('POST', '/api/pause', { type, key })
  }
  async resume(type: string, key?: string) {
    await this.call('POST', '/api/resume', { type, key })
  }
  pauses() {
    return this.call<Pause[]>('GET', '/api/pauses')
  }
  async machine(type: string) {
    return (await this.call<{ machine?: unknown }>('GET', '/api/machine', { type })).machine
  }
  /** What the serving process reads, and where it is reached. */
  async describe(): Promise<InspectorSource> {
    let about: InspectorSource | undefined
    try {
      about = (await this.call<{ about?: InspectorSource }>('GET', '/api/about')).about
    } catch (error) {
      // A server from before /api/about refuses it; what it reads is then not known.
      if ((error as TroupeError).code !== 'TROUPE_INSPECT_REFUSED') throw error
    }
    return about === undefined ? { mode: 'unknown', source: this.base } : { mode: about.mode, source: `${about.source} at ${this.base}` }
  }
}
