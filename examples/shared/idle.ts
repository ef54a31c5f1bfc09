// Waiting until a system has nothing left to do, in either mode: the AWS mode knows when its
// streams are read to the end (`idle()`); the embedded system says so through `inspect()`.
import type { System } from 'troupe'

/** Resolves once every accepted message (and what it caused) has finished; timers not yet due are not waited for. */
export async function untilIdle(system: System, timeoutMs = 60_000): Promise<void> {
  const aws = system as System & { idle?: () => Promise<void> }
  if (typeof aws.idle === 'function') return aws.idle()
  const until = Date.now() + timeoutMs
  const busy = () =>
    system.inspect().actors.filter((a) => a.queued !== 0 || a.running !== 0 || a.counts.accepted !== a.counts.done + a.counts.filtered + a.counts.dead)
  while (busy().length > 0) {
    if (Date.now() > until) throw new Error(`the system is still busy after ${timeoutMs} ms: ${busy().map((a) => a.type).join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
