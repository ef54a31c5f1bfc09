// Runs of the durable host that no batch brought (durable-host.ts is the map): one message sent
// straight to the host (a Lambda `Invoke` from `ask`), and what waits in an instance's item
// (messages parked by a throttle or for a retry). They commit as a batch's runs do; what they send has no
// record of its own to sit at, so it goes out through the instance's shard (docs/guarantees.md).
import type { Envelope } from '../../core/envelope.js'
import { messageLogFields } from '../../core/logger.js'
import type { ReceiptRecord, StoredInstance, StoredReceipt } from '../../store/index.js'
import { assembleReceipt } from '../../store/receipt-records.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { ActorRegistry } from '../../turn/registry.js'
import type { Group } from './durable-batch.js'
import { message, type DurableContext } from './durable-context.js'
import { flushRecord } from './flush-record.js'
import type { GroupRunner } from './group-runner.js'
import { decodeMeta, reached } from './instance-meta.js'
import { messagesOf } from './outbox.js'
import { merged, receiptsIn, writesBeforeCommit } from './pending-receipts.js'
import type { TurnOutcomes } from './turn-outcomes.js'
import { typeRate } from './type-rates.js'

/** The stream a direct invocation's message is remembered under when the caller names none. */
const DIRECT_STREAM = '(direct)'
/** How long a direct turn waits for the asker's earlier tell to be applied from the stream. */
const DIRECT_WAIT_MS = 3_000
const NOT_YET = Symbol('not yet')

/** Where the asker's earlier tell to the same instance went: a direct turn must not overtake it. */
export interface EarlierTell {
  stream: string
  shardId: string
  sequenceNumber: string
  member?: number
}

export class DirectRuns {
  constructor(
    private readonly ctx: DurableContext,
    private readonly registry: ActorRegistry<ActorType>,
    private readonly outcomes: TurnOutcomes,
    private readonly runner: GroupRunner,
  ) {}

  /**
   * Runs one message sent straight to this host (a Lambda `Invoke` from `ask`), under the same
   * conditional commit as the stream path, so a batch for the same key running at the same
   * time costs a rerun, never a lost update. A copy of a message already applied (the same
   * origin) is not applied again. The messages its turn sends are kept in the instance's item
   * and go out through its shard: a flush record for the instance is put on the stream, and the
   * turn that reads it places and sends them (docs/guarantees.md). Resolves to the message's receipt (with
   * the reply), or undefined when the turn could not finish (out of time, or the store or stream
   * failed): the caller may try again. `stream` is where the message goes when it is told. With
   * `keepsAnswer` (the asker wrote an `accepted` entry that points readers at the item), the
   * answer's final receipt entry waits in the item (pending-receipts.ts).
   */
  async handleDirect(
    envelope: Envelope,
    deadline = Infinity,
    after?: EarlierTell,
    stream = after?.stream ?? DIRECT_STREAM,
    keepsAnswer = false,
  ): Promise<StoredReceipt | undefined> {
    const { ctx } = this
    const type = this.registry.get(envelope.type)
    if (ctx.claimCheck) envelope = await ctx.claimCheck.restore(envelope)
    envelope.receipt = 'reply'
    if (!type.stateful) return this.directStateless(type, envelope, deadline)
    const group: Group = { type, key: envelope.key, records: [{ sequenceNumber: undefined, envelope }] }
    const { recent } = this.runner
    // Every request that finds or leaves the item this run keeps is sent after this moment.
    const began = recent.now()
    // The item this host's last run of the key left, when it has applied the earlier tell, instead of a read (recent-items.ts).
    const remembered = recent.take(type.type, envelope.key)
    const meta = remembered === undefined ? undefined : decodeMeta(remembered.item.meta)
    const remembering = meta !== undefined && !writesBeforeCommit(meta, envelope.id) && (after === undefined || reached(meta, `${after.stream}/${after.shardId}`, after.sequenceNumber, after.member))
    if (remembering) {
      group.stored = remembered!.item
      group.remembered = true
      group.typePaused = false
    } else {
      const loaded = await this.loadPast(type.type, envelope.key, after, Math.min(deadline, ctx.clock.now() + DIRECT_WAIT_MS))
      if (loaded === NOT_YET) return undefined
      group.stored = loaded.stored
      group.typePaused = loaded.typePaused
    }
    await ctx.rates.grant([group], { kind: 'direct', stream, envelope }, ctx.clock.now())
    await this.slotFor(group)
    // The receipt entry the turn makes is caught here: the answer needs no read after the send.
    const watched = { envelope: envelope.id, record: undefined as ReceiptRecord | undefined }
    this.outcomes.directAnswers.add(watched)
    const result = { applied: 0, duplicates: 0, conflicts: 0 }
    try {
      const failed = await this.runner.runGroup(group, { kind: 'direct', stream, envelope, keepsAnswer }, deadline, result)
      if (remembering && result.conflicts !== 0) recent.lost(type.type, envelope.key)
      // Left as remembered (a copy, nothing written): known from when it was before.
      else if (failed === undefined && group.stored !== undefined) recent.keep(type.type, envelope.key, group.stored, group.stored === remembered?.item ? remembered.at : began)
      if (failed !== undefined) return undefined
    } finally {
      this.outcomes.directAnswers.delete(watched)
    }
    // A copy of a message applied before: its final entry may still wait in the item (pending-receipts.ts).
    if (watched.record === undefined) return merged(await ctx.options.journal.receipt(envelope.id, ctx.clock.now()), receiptsIn(group.stored, envelope.id))
    return assembleReceipt(envelope.id, [watched.record])
  }

  /**
   * Runs what waits in an instance's item (messages parked by a throttle or for a retry) here, as
   * a direct run of a flush record, by `deadline` (a scheduled tick's Lambda time): what the
   * waiting turns send goes out through the instance's shard, as a direct run's does. False when
   * they did not all run.
   */
  async runWaiting(type: string, key: string, flushId: string, stream: string, deadline = Infinity): Promise<boolean> {
    const actor = this.registry.get(type)
    const loaded = await this.loadPast(actor.type, key, undefined, Infinity)
    if (loaded === NOT_YET) return false
    const flush = flushRecord(actor.type, key, flushId, flushId, this.ctx.clock.now())
    const group: Group = { type: actor, key, records: [{ sequenceNumber: undefined, envelope: flush }], stored: loaded.stored, typePaused: loaded.typePaused }
    await this.ctx.rates.grant([group], { kind: 'direct', stream, envelope: flush }, this.ctx.clock.now())
    await this.slotFor(group)
    return (await this.runner.runGroup(group, { kind: 'direct', stream, envelope: flush }, deadline, { applied: 0, duplicates: 0, conflicts: 0 })) === undefined
  }

  /**
   * A stateless actor's turn invoked directly: its reply is the answer. It has no item to keep the
   * messages it sends until its shard sends them, so when it sends any, a copy of the message goes
   * on the stream instead and the turn runs there again to send them (a stateless turn may run
   * more than once, as on any redelivery); its receipts and timers are written now (keyed writes).
   */
  private async directStateless(type: ActorType, envelope: Envelope, deadline: number): Promise<StoredReceipt | undefined> {
    const { ctx } = this
    // Under its type's rate it needs a token, and without one it has nowhere to wait here: it goes on the stream.
    if (typeRate(type) !== undefined) return undefined
    // Under its type's concurrency it needs a slot, the same way.
    const group: Group = { type, key: envelope.key, records: [{ sequenceNumber: undefined, envelope }] }
    await this.slotFor(group)
    try {
      if (group.grant?.slot !== undefined && !group.grant.slot.held(ctx.clock.now())) return undefined
      return await this.runStatelessTurn(type, envelope, deadline, group.grant?.slot)
    } finally {
      await group.grant?.slot?.done(group)
    }
  }

  /**
   * A lease on one slot of the group's type's concurrency, when it has one (type-slots.ts): the
   * run's turns start only while it holds the slot, and the run gives it back when it ends
   * (`runGroup`). Two updates per direct run of a capped type, unless it takes on a lease this host kept (type-slots.ts).
   */
  private async slotFor(group: Group): Promise<void> {
    const plan = await this.ctx.slots.plan([group], this.ctx.clock.now())
    const lease = group.grant?.slot
    if (lease !== undefined && lease.count !== 0) await plan.next()
  }

  /** Its retries in place stop, as a batch's do, once the type's slot would not outlast the wait. */
  private async runStatelessTurn(type: ActorType, envelope: Envelope, deadline: number, slot: { held(now: number): boolean } | undefined): Promise<StoredReceipt | undefined> {
    const { ctx } = this
    const watched = { envelope: envelope.id, record: undefined as ReceiptRecord | undefined }
    this.outcomes.directAnswers.add(watched)
    try {
      const ran = await this.outcomes.runMessage(type, envelope, undefined, [], deadline, slot)
      if (ran.end === 'later') return undefined
      await ctx.outbox.send(ran.entries.filter((e) => e.kind !== 'message'))
      if (messagesOf(ran.entries).length !== 0) await this.putOnStream(envelope)
      ctx.committed(type, ran.events)
    } catch (error) {
      ctx.logger.warn('a direct turn of a stateless actor did not finish; the ask goes on the stream', { ...messageLogFields(envelope), error: message(error) })
      return undefined
    } finally {
      this.outcomes.directAnswers.delete(watched)
    }
    if (watched.record === undefined) return ctx.options.journal.receipt(envelope.id, ctx.clock.now())
    return assembleReceipt(envelope.id, [watched.record])
  }

  /**
   * The instance, once it has applied the record at `after` (the asker's earlier tell): a direct
   * turn must not overtake it. NOT_YET when it has not by `until`; the ask then follows the tell
   * on the stream.
   */
  private async loadPast(
    type: string,
    key: string,
    after: EarlierTell | undefined,
    until: number,
  ): Promise<{ stored: StoredInstance | undefined; typePaused: boolean } | typeof NOT_YET> {
    const { clock } = this.ctx
    for (let pauseMs = 20; ; pauseMs = Math.min(pauseMs * 2, 500)) {
      const loaded = await this.runner.load(type, key)
      const { stored } = loaded
      if (after === undefined) return loaded
      if (reached(decodeMeta(stored?.meta), `${after.stream}/${after.shardId}`, after.sequenceNumber, after.member)) return loaded
      if (clock.now() + pauseMs >= until) return NOT_YET
      await new Promise<void>((resolve) => clock.setTimeout(() => resolve(), pauseMs))
    }
  }

  /**
   * Puts `envelope` itself on its stream, with its origin: a stateless turn has no item to wait in,
   * so the turn runs again there (a flush record would find nothing to run).
   */
  private async putOnStream(envelope: Envelope): Promise<void> {
    const report = await this.ctx.options.messages.send([{ ...(this.ctx.claimCheck?.travelled(envelope) ?? envelope) }])
    const failed = report.results.find((r) => r.status !== 'sent')
    if (failed?.status === 'failed') throw failed.error
  }
}
