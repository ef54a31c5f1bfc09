// Compile-time checks of pipeline(…): `tsc --noEmit` fails if any @ts-expect-error line compiles.
import t from 'tap'
import { Actor, pipeline, type Joined } from '../../lib/index.js'

class Parse extends Actor<{ raw: string }, { n: number } | null> {
  static readonly type = 'tp.parse'
  receive(msg: { raw: string }) {
    return msg.raw === '' ? null : { n: Number(msg.raw) }
  }
}
class Double extends Actor<{ n: number }, { n: number }> {
  static readonly type = 'tp.double'
  receive(msg: { n: number }) {
    return { n: msg.n * 2 }
  }
}
class Label extends Actor<{ n: number }, string> {
  static readonly type = 'tp.label'
  receive(msg: { n: number }) {
    return String(msg.n)
  }
}
class Split extends Actor<{ n: number }, { n: number }[]> {
  static readonly type = 'tp.split'
  receive(msg: { n: number }) {
    return [msg, msg]
  }
}
class TakesText extends Actor<string> {
  static readonly type = 'tp.text'
  receive() {}
}
class Both extends Actor<Joined<[typeof Double, typeof Label], { n: number }>, number> {
  static readonly type = 'tp.both'
  receive(msg: Both['In']) {
    return msg.complete ? msg.replies[0].n + msg.replies[1].length : 0
  }
}
class Sum extends Actor<number> {
  static readonly type = 'tp.sum'
  receive() {}
}

t.test('well-typed pipelines compile', async (t) => {
  pipeline('a').from(Parse).pipe(Double).pipe(Label).pipe(TakesText) // null from Parse is not passed on
  pipeline('b').from(Parse).fork(Double, Label).join(Both, { timeoutMs: 1_000 }).pipe(Sum)
  pipeline('c').from(Parse).pipe(Split).each(Double)
  t.pass('checked by tsc')
})

t.test('a stage that does not take the previous output does not compile', async (t) => {
  // @ts-expect-error Label replies a string; Double takes { n }
  pipeline('d').from(Parse).pipe(Label).pipe(Double)
  // @ts-expect-error TakesText takes a string; Parse outputs { n }
  pipeline('e').from(Parse).fork(Double, TakesText)
  // @ts-expect-error the join's mailbox is Joined<[Double, Label]>, not of [Label, Double]
  pipeline('f').from(Parse).fork(Label, Double).join(Both, { timeoutMs: 1_000 })
  // @ts-expect-error .each needs an array output
  pipeline('g').from(Parse).each(Double)
  // @ts-expect-error Both replies a number; TakesText takes a string
  pipeline('h').from(Parse).fork(Double, Label).join(Both, { timeoutMs: 1_000 }).pipe(TakesText)
  t.pass('checked by tsc')
})
