// The limit for W4: fork/join written by hand with promises, no actors at all. Ten async
// child functions, Promise.all over them, the replies summed: what a fork/join costs when
// nothing is queued, supervised, identified or remembered.
import type { BenchSystem } from './system.js'

export const promises: BenchSystem = {
  name: 'promises',
  notes: {
    W4: 'const sums = await Promise.all(children.map((child) => child(x))) over 10 async functions (child j returns x + j), then a reduce',
  },

  W4(fanout) {
    const children = Array.from({ length: fanout }, (_, j) => async (x: number) => x + j)
    return {
      forkJoin: async (x) => {
        const replies = await Promise.all(children.map((child) => child(x)))
        let sum = 0
        for (const r of replies) sum += r
        return sum
      },
      teardown: () => undefined,
    }
  },
}
