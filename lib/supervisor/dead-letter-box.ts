import type { DeadLetter } from '../core/dead-letter.js'

/** Dead letters kept in memory, oldest evicted past the limit (and counted, never silently). */
export class DeadLetterBox {
  private readonly letters = new Map<string, DeadLetter>()
  /** Dead letters dropped to respect the limit. */
  evicted = 0

  constructor(
    private readonly limit: number,
    private readonly onEvict: (letter: DeadLetter) => void,
  ) {}

  get size(): number {
    return this.letters.size
  }

  add(letter: DeadLetter): void {
    this.letters.delete(letter.envelope.id)
    this.letters.set(letter.envelope.id, letter)
    if (this.letters.size <= this.limit) return
    const [oldestId, oldest] = this.letters.entries().next().value as [string, DeadLetter]
    this.letters.delete(oldestId)
    this.evicted++
    this.onEvict(oldest)
  }

  take(id: string): DeadLetter | undefined {
    const letter = this.letters.get(id)
    this.letters.delete(id)
    return letter
  }

  list(type?: string): DeadLetter[] {
    const all = [...this.letters.values()]
    return type ? all.filter((l) => l.envelope.type === type) : all
  }
}
