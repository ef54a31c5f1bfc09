// Which requests keep their whole trace in the table. The decision is a hash of the correlation
// id against the rate, so every host that runs a message of the request decides the same without
// anything on the wire: a sampled request keeps a receipt (and its trace link) for every message,
// an unsampled one writes nothing more than before. Whatever the rate, a message that was retried
// or dead-lettered keeps its receipt: those are the ones someone will look for.

/** Whether the request `correlationId` is in the sample kept at `rate` (0: none, 1: all). */
export function sampledTrace(correlationId: string, rate: number): boolean {
  if (rate >= 1) return true
  if (!(rate > 0)) return false
  return idHash(correlationId) / 0x1_0000_0000 < rate
}

/** FNV-1a, 32 bits: cheap, and spread evenly enough over ids (test/unit/trace-sampling.test.ts). */
function idHash(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
