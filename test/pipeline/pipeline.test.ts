// pipeline(…) at run time, in memory with the testing kit: outputs flow stage to stage, a null
// stops a message, .each fans out, fork/join gathers; the graph; mistakes named at declaration.
import t from 'tap'
import { Actor, ConfigError, pipeline, toDot, toMermaid, type Context, type Joined } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

class Words extends Actor<{ text: string }, string[] | null> {
  static readonly type = 'pl.words'
  receive(msg: { text: string }) {
    const words = msg.text.split(/\s+/).filter(Boolean)
    return words.length === 0 ? null : words
  }
}
class Upper extends Actor<string, string> {
  static readonly type = 'pl.upper'
  receive(word: string) {
    return word.toUpperCase()
  }
}
class Length extends Actor<string, number> {
  static readonly type = 'pl.length'
  receive(word: string) {
    return word.length
  }
}
class Pair extends Actor<Joined<[typeof Upper, typeof Length], string>, { word: string; n: number }> {
  static readonly type = 'pl.pair'
  receive(msg: Pair['In']) {
    return { word: msg.complete ? msg.replies[0] : `?${msg.value}`, n: msg.complete ? msg.replies[1] : -1 }
  }
}
class Collect extends Actor<{ word: string; n: number }, void, { seen: string[] }> {
  static readonly type = 'pl.collect'
  key() {
    return 'all'
  }
  initialState() {
    return { seen: [] as string[] }
  }
  receive(msg: { word: string; n: number }, ctx: Context<{ seen: string[] }>) {
    ctx.state.seen.push(`${msg.word}:${msg.n}`)
  }
}

function wordsPipeline() {
  return pipeline('words').from(Words).each(Identity).fork(Upper, Length).join(Pair, { timeoutMs: 1_000 }).pipe(Collect)
}
class Identity extends Actor<string, string> {
  static readonly type = 'pl.identity'
  receive(word: string) {
    return word
  }
}

t.test('each output is the next message: each fans out, the fork joins, the sink keeps it', async (t) => {
  const words = wordsPipeline()
  const { system, settle } = createTestSystem({ actors: words.actors })
  await system.tell(Words, { text: 'to be or' }) // the user's own class reaches the stage
  await system.tell(Words, { text: '   ' }) // no words: Words replies null, nothing goes on
  await settle()
  t.same([...((await system.state(Collect, 'all'))?.seen ?? [])].sort(), ['BE:2', 'OR:2', 'TO:2'])
  const counts = Object.fromEntries(system.inspect().actors.map((a) => [a.type, a.counts.done]))
  t.match(counts, { 'pl.words': 2, 'pl.identity': 3, 'pl.upper': 3, 'pl.length': 3, 'pl.pair': 3, 'pl.collect': 3 })
})

t.test('a stage that fails ends as a dead letter; its branch shows as missing in the join', async (t) => {
  class Fragile extends Actor<string, number> {
    static readonly type = 'pl.fragile'
    static readonly policy = { maxAttempts: 1 }
    receive(word: string): number {
      if (word === 'boom') throw new Error('boom')
      return word.length
    }
  }
  class Seen extends Actor<Joined<[typeof Upper, typeof Fragile], string>, void, { got: string[] }> {
    static readonly type = 'pl.seen'
    key() {
      return 'all'
    }
    initialState() {
      return { got: [] as string[] }
    }
    receive(msg: Seen['In'], ctx: Context<{ got: string[] }>) {
      ctx.state.got.push(msg.complete ? `${msg.replies[0]}:${msg.replies[1]}` : `${msg.value} missing ${msg.missing.map((m) => `${m.actor} ${m.status}`).join(',')}`)
    }
  }
  const p = pipeline('fragile').from(Identity).fork(Upper, Fragile).join(Seen, { timeoutMs: 1_000 })
  const { system, settle } = createTestSystem({ actors: p.actors })
  await system.tell(Identity, 'ok')
  await system.tell(Identity, 'boom')
  await settle()
  t.same([...((await system.state(Seen, 'all'))?.got ?? [])].sort(), ['OK:2', 'boom missing pl.fragile dead'])
  t.equal((await system.deadLetters()).length, 1)
})

t.test('the graph names every stage and edge; Mermaid and DOT draw it', async (t) => {
  const g = wordsPipeline().graph()
  t.same(
    g.nodes.map((n) => [n.id, n.kind]),
    [['pl.words', 'stateless'], ['pl.identity', 'stateless'], ['pl.upper', 'stateless'], ['pl.length', 'stateless'], ['pl.pair', 'stateless'], ['pl.collect', 'keyed']],
  )
  t.same(
    g.edges.map((e) => `${e.from} ${e.kind} ${e.to}`),
    ['pl.words each pl.identity', 'pl.identity fork pl.upper', 'pl.identity fork pl.length', 'pl.upper join pl.pair', 'pl.length join pl.pair', 'pl.pair pipe pl.collect'],
  )
  const mermaid = toMermaid([g])
  t.match(mermaid, /^flowchart LR\n/)
  t.match(mermaid, /pl_words -->\|each\| pl_identity/)
  t.match(mermaid, /pl_upper -.->\|join\| pl_pair/)
  t.match(mermaid, /pl_collect\[\("Collect<br\/><small>pl.collect<\/small> · keyed"\)\]/)
  const dot = toDot([g, { name: 'other', nodes: [], edges: [] }])
  t.match(dot, /subgraph cluster_0 \{\n    label="words";/)
  t.match(dot, /"pl.upper" -> "pl.pair" \[label="join", style=dashed\];/)
})

t.test('naming a stage again leads back to it: a loop, which runs until a stage replies nothing', async (t) => {
  class Countdown extends Actor<{ n: number }, { n: number } | null> {
    static readonly type = 'pl.countdown'
    receive(msg: { n: number }) {
      return msg.n === 0 ? null : { n: msg.n - 1 }
    }
  }
  class Step extends Actor<{ n: number }, { n: number }, { seen: number[] }> {
    static readonly type = 'pl.step'
    key() {
      return 'all'
    }
    initialState() {
      return { seen: [] as number[] }
    }
    receive(msg: { n: number }, ctx: Context<{ seen: number[] }>) {
      ctx.state.seen.push(msg.n)
      return msg
    }
  }
  const loop = pipeline('loop').from(Countdown).pipe(Step).pipe(Countdown)
  t.equal(loop.actors.length, 2)
  t.same(loop.graph().edges.map((e) => `${e.from} ${e.to}`), ['pl.countdown pl.step', 'pl.step pl.countdown'])
  const { system, settle } = createTestSystem({ actors: loop.actors })
  await system.tell(Countdown, { n: 3 })
  await settle()
  t.same((await system.state(Step, 'all'))?.seen, [2, 1, 0])
})

t.test('mistakes are named when the pipeline is declared', async (t) => {
  t.throws(() => pipeline('bad name!'), ConfigError)
  const start = pipeline('branch').from(Identity)
  start.pipe(Upper)
  t.throws(() => start.pipe(Length), { message: /pl.identity already goes on; .*fork/ })
  const one = pipeline('one').from(Identity) as unknown as { fork(...stages: unknown[]): unknown }
  t.throws(() => one.fork(Upper), { message: /two stages or more/ })
  t.throws(() => pipeline('slow').from(Identity).fork(Upper, Length).join(Pair, { timeoutMs: 0 }), { message: /timeoutMs above 0/ })
})
