// What `troupe dev --host process` serves for inspection: the running AwsSystem's own view (counts,
// the messages and traces it saw, dead letters, pauses) with its instances read from the table, as
// on the Lambda host and over `--table`. The system remembers only the instances whose turns ran in
// this process since it started; the table holds every one, among them a key paused before its
// first turn and one whose only message died.
import type { TableInspector } from '../aws/table-inspector.js'
import type { ActorRow, Inspector, InstanceRow, Page } from '../inspect/inspector.js'
import type { SystemInspector } from '../inspect/system-inspector.js'

export class ProcessHostInspector implements Inspector {
  constructor(
    private readonly system: SystemInspector,
    private readonly table: TableInspector,
  ) {}

  async actors(): Promise<ActorRow[]> {
    const [rows, stored] = await Promise.all([this.system.actors(), this.table.actors()])
    const instances = new Map(stored.map((r) => [r.type, r.instances]))
    return rows.map((r) => ({ ...r, instances: instances.get(r.type) ?? 0 }))
  }

  async instance(type: string, key: string): Promise<InstanceRow | undefined> {
    const stored = await this.table.instance(type, key)
    return stored === undefined ? undefined : this.withLastMessage(stored)
  }

  async instances(type: string, options?: { limit?: number; after?: string; search?: string }): Promise<Page<InstanceRow>> {
    const page = await this.table.instances(type, options)
    return { ...page, items: await Promise.all(page.items.map((row) => this.withLastMessage(row))) }
  }

  /** The table's row, with the last message and the recent ids this process saw change it (the table keeps few). */
  private async withLastMessage(stored: InstanceRow): Promise<InstanceRow> {
    const live = (await this.system.instances(stored.type, { search: stored.key })).items.find((i) => i.key === stored.key)
    if (live === undefined) return stored
    return { ...stored, ...(live.lastMessageId !== undefined ? { lastMessageId: live.lastMessageId } : {}), ...(live.recent?.length ? { recent: live.recent } : {}) }
  }

  message(id: string) {
    return this.system.message(id)
  }
  trace(correlationId: string) {
    return this.system.trace(correlationId)
  }
  dead(type?: string) {
    return this.system.dead(type)
  }
  replay(id: string) {
    return this.system.replay(id)
  }
  joins() {
    return this.system.joins()
  }
  timers() {
    return this.system.timers()
  }
  cost() {
    return this.system.cost()
  }
  graph() {
    return this.system.graph()
  }
  pause(type: string, key?: string) {
    return this.system.pause(type, key)
  }
  resume(type: string, key?: string) {
    return this.system.resume(type, key)
  }
  pauses() {
    return this.system.pauses()
  }
  machine(type: string) {
    return this.system.machine(type)
  }
  describe() {
    return this.system.describe()
  }
  async close(): Promise<void> {
    await Promise.all([this.system.close(), this.table.close()])
  }
}
