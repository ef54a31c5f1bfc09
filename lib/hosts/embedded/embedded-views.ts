import type { MessageId } from '../../core/ids.js'
import type { InstanceSnapshot, SystemSnapshot } from '../../core/inspection.js'
import { copyState } from '../../core/state-copy.js'
import { readKept } from '../../core/state-journal.js'
import { OtherVersionState, shownState } from '../../turn/state-version.js'
import { reportId } from '../../turn/turn-effects.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'

/** What `instances()` shows of a type's instances in memory: copies, never the live state. */
export function instanceSnapshots(rt: ActorRuntime, idOf: (seq: number) => MessageId): InstanceSnapshot<never>[] {
  return [...rt.instances.values()].map((inst) => ({
    type: rt.type,
    key: inst.key,
    // A state of another version no turn migrated yet shows migrated (in memory only), or as stored.
    state: readKept(inst.state, (state) => (state instanceof OtherVersionState ? shownState(rt, inst.key, state) : copyState(state))) as never,
    queued: inst.size,
    running: inst.active !== 0,
    lastMessageId: lastMessageId(inst, idOf),
    updatedAt: inst.updatedAt,
  }))
}

/** The id of the last message an instance handled: its envelope's, its report's, or its bare body's. */
function lastMessageId(inst: Instance, idOf: (seq: number) => MessageId): MessageId | undefined {
  const last = inst.lastMessage
  if (last === undefined) return inst.lastSeq >= 0 ? idOf(inst.lastSeq) : undefined
  return 'child' in last ? reportId(last.child) : last.id
}

/** What `inspect()` shows: each type's counts as they are now. */
export function systemSnapshot(runtimes: readonly ActorRuntime[], at: number, deadLetters: number): SystemSnapshot {
  return {
    at,
    actors: runtimes.map((rt) => ({
      type: rt.type,
      kind: rt.kind,
      instances: rt.kind === 'stateless' ? 0 : rt.instances.size,
      queued: rt.queued,
      running: rt.running,
      counts: { ...rt.counts },
      lastActivityAt: rt.lastActivityAt,
      paused: rt.pausedAll,
      pausedKeys: [...rt.pausedKeys],
    })),
    deadLetters,
  }
}
