// What `troupe dev --host process` serves for inspection: the running AwsSystem's own view (counts,
// the messages and traces it saw, dead letters, pauses) with its instances read from the table, as
// on the Lambda host and over `--table`. The system remembers only the instances whose turns ran in
// this process since it started; the table holds every one, among them a key paused before its
// first turn and one whose only message died.
import type { TableInspector } from '../aws/table-inspector.js'
import type { ActorRow, Inspector, InstanceRow, Page } from '../inspect/inspector.js'
import type { SystemInspector } from '../inspect/system-inspector.js'

/**
 * How long the table's instance counts may be shown again while this process has done nothing: the
 * web view asks every second, and reading them scans the table. Every instance of this host's
 * changes with a turn or a pause here; another process's pause shows within this time.
 */
const COUNTS_KEPT_MS = 30_000

export class ProcessHostInspector implements Inspector {
  /** The table's rows as last read, shared by the callers that ask meanwhile, and the process's work when they were read. */
  private counted: { at: number; work: number; rows: Promise<ActorRow[]> } | undefined

  constructor(
    private readonly own: SystemInspector,
    private readonly table: TableInspector,
    private readonly tableName: string,
  ) {}

  async actors(): Promise<ActorRow[]> {
    const [rows, stored] = await Promise.all([this.own.actors(), this.storedRows()])
    if (stored === undefined) return rows
    const byType = new Map(stored.map((r) => [r.type, r]))
    return rows.map((r) => {
      const s = byType.get(r.type)
      return { ...r, instances: s?.instances ?? 0, ...(s?.unreadable !== undefined ? { unreadable: s.unreadable } : {}) }
    })
  }

  /**
   * The table's rows for their instance counts, read again once this process has accepted or ended
   * a message since (or after COUNTS_KEPT_MS); undefined when the table cannot be read (the
   * process's own counts stand).
   */
  private async storedRows(): Promise<ActorRow[] | undefined> {
    const now = Date.now()
    const work = this.own.system.inspect().actors.reduce((n, a) => n + a.counts.accepted + a.counts.done + a.counts.dead + a.counts.filtered + a.counts.retried, 0)
    if (this.counted === undefined || this.counted.work !== work || now - this.counted.at > COUNTS_KEPT_MS) {
      const rows = this.table.actors()
      this.counted = { at: now, work, rows }
      rows.catch(() => (this.counted = undefined))
    }
    return this.counted.rows.catch(() => undefined)
  }

  async instance(type: string, key: string): Promise<InstanceRow | undefined> {
    const stored = await this.table.instance(type, key)
    return stored === undefined ? undefined : this.withLastMessage([stored])[0]
  }

  async instances(type: string, options?: { limit?: number; after?: string; search?: string }): Promise<Page<InstanceRow>> {
    const page = await this.table.instances(type, options)
    return { ...page, items: this.withLastMessage(page.items) }
  }

  /** The table's rows, with the last message and the recent ids this process saw change each (the table keeps few). */
  private withLastMessage(rows: InstanceRow[]): InstanceRow[] {
    const type = rows[0]?.type
    if (type === undefined) return rows
    const live = new Map(this.ownInstances(type).map((i) => [i.key, i]))
    return rows.map((row) => {
      const seen = live.get(row.key)
      const recent = this.own.log.doneFor(type, row.key)
      return { ...row, ...(seen?.lastMessageId !== undefined ? { lastMessageId: seen.lastMessageId } : {}), ...(recent.length !== 0 ? { recent } : {}) }
    })
  }

  /** The type's instances this process remembers: none for a type the app does not run (the table may hold an older app's). */
  private ownInstances(type: string): { key: string; lastMessageId: string | undefined }[] {
    try {
      return this.own.system.instances(type)
    } catch {
      return []
    }
  }

  message(id: string) {
    return this.own.message(id)
  }
  trace(correlationId: string) {
    return this.own.trace(correlationId)
  }
  dead(type?: string) {
    return this.own.dead(type)
  }
  replay(id: string) {
    return this.own.replay(id)
  }
  joins() {
    return this.own.joins()
  }
  timers() {
    return this.own.timers()
  }
  cost() {
    return this.own.cost()
  }
  graph() {
    return this.own.graph()
  }
  async pause(type: string, key?: string) {
    await this.own.pause(type, key)
    this.counted = undefined
  }
  async resume(type: string, key?: string) {
    await this.own.resume(type, key)
    this.counted = undefined
  }
  pauses() {
    return this.own.pauses()
  }
  machine(type: string) {
    return this.own.machine(type)
  }
  async describe() {
    const own = await this.own.describe()
    return { ...own, source: `${own.source}; instances from table ${this.tableName}` }
  }
  async close(): Promise<void> {
    await Promise.all([this.own.close(), this.table.close()])
  }
}
