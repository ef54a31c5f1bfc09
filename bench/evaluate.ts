// One run's reps, and what a target makes of them: the figure it is about, met or missed.
import { durableFunctions } from './cost-peers.js'
import { median } from './harness.js'
import { verdict, type Check } from './targets.js'

export interface Rep {
  round: number
  suite: string
  system: string
  workload: string
  metrics: Record<string, number>
}

export function medianOf(reps: readonly Rep[], metric: string): number | undefined {
  const xs = reps.map((r) => r.metrics[metric]).filter((x): x is number => typeof x === 'number')
  return xs.length ? median(xs) : undefined
}

/** The figure a check is about (a ratio or a difference of medians, or a median), when its systems ran. */
export function evaluate(c: Check, reps: readonly Rep[]): ReturnType<typeof verdict> | undefined {
  const mine = reps.filter((r) => r.workload === c.workload && r.system === c.system)
  const a = medianOf(mine, c.metric)
  if (a === undefined) return undefined
  if (c.vsPeer === 'durable-functions') {
    const peer = durableFunctions(c.workload)
    return peer && a > 0 ? verdict(c, peer.usd / a) : undefined
  }
  if (!c.vs) return verdict(c, a)
  const theirs = reps.filter((r) => r.workload === (c.vsWorkload ?? c.workload) && r.system === c.vs)
  const b = medianOf(theirs, c.metric)
  if (b === undefined) return undefined
  if (c.by === 'difference') return verdict(c, a - b)
  if (b === 0) return undefined
  return verdict(c, a / b)
}
