// Forks still waiting: the joiner's open instances, with the deadline from their timer and the
// children whose outcome has not come.
import { JOINER, type JoinerState } from '../../actors/joiner.js'
import { decode } from '../core/serialization.js'
import type { TimerRecord } from '../store/index.js'
import type { JoinRow } from './inspector.js'

export function pendingJoins(joiners: readonly { key: string; state: unknown }[], timers: readonly TimerRecord[]): JoinRow[] {
  const deadlines = new Map<string, number>()
  for (const t of timers) {
    if (t.target !== JOINER) continue
    try {
      const body = decode(t.body) as { op?: string; forkId?: string }
      if (body?.op === 'deadline' && typeof body.forkId === 'string') deadlines.set(body.forkId, t.dueAt)
    } catch {
      // not a joiner timer body: nothing to show
    }
  }
  const rows: JoinRow[] = []
  for (const { key, state } of joiners) {
    const s = state as JoinerState | undefined
    if (!s?.open || s.joined) continue
    const deadline = deadlines.get(key)
    rows.push({
      forkId: key,
      join: s.open.join,
      total: s.open.total,
      received: s.received,
      ...(deadline !== undefined ? { deadline } : {}),
      missing: s.open.children.map((c, index) => ({ index, actor: c.actor, messageId: c.messageId })).filter((c) => !Object.hasOwn(s.outcomes, String(c.index))),
    })
  }
  return rows.sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity))
}
