// Compile-time checks: `tsc --noEmit` fails if any @ts-expect-error line compiles.
import t from 'tap'
import { Actor, createSystem, type Context } from '../../lib/index.js'

class GeoIp extends Actor<{ ip: string }, { country: string }> {
  static readonly type = 'geoIp'
  receive(msg: GeoIp['In']) {
    return { country: msg.ip.startsWith('81.') ? 'FR' : 'US' }
  }
}

class Counter extends Actor<{ by: number }, number, { count: number }> {
  static readonly type = 'counter'
  key() { return 'one' }
  initialState() { return { count: 0 } }
  receive(msg: Counter['In'], ctx: Context<{ count: number }>) {
    ctx.state.count += msg.by
    return ctx.state.count
  }
}

interface Shaped { url: string; tags: string[]; at: Date; seen: Set<string>; extra?: { n: bigint } }
class WithInterface extends Actor<Shaped> {
  static readonly type = 'withInterface'
  receive() {}
}

class CountryOnly extends Actor<{ country: string }> {
  static readonly type = 'countryOnly'
  receive() {}
}

class NeedsNumber extends Actor<number> {
  static readonly type = 'needsNumber'
  receive() {}
}

// @ts-expect-error a function in the mailbox would not survive the AWS mode
class Bad extends Actor<{ cb: () => void }> {
  static readonly type = 'bad'
  receive() {}
}

// @ts-expect-error a class instance with methods in state would not survive either
class BadState extends Actor<{ a: number }, void, { m: { f(): void } }> {
  static readonly type = 'badState'
  receive() {}
}

class Teller extends Actor<{ ip: string }> {
  static readonly type = 'teller'
  receive(msg: Teller['In'], ctx: Context) {
    ctx.tell(GeoIp, { ip: msg.ip }, { replyTo: CountryOnly })
    // @ts-expect-error CountryOnly does not take GeoIp's mailbox
    ctx.tell(CountryOnly, { ip: msg.ip })
    // @ts-expect-error NeedsNumber cannot take GeoIp's reply
    ctx.tell(GeoIp, { ip: msg.ip }, { replyTo: NeedsNumber })
  }
}

t.test('call sites infer from the actor class', async (t) => {
  const system = createSystem({ actors: [GeoIp, Counter, WithInterface, CountryOnly, NeedsNumber, Teller], logLevel: 'silent' })
  const geo = await system.ask(GeoIp, { ip: '81.2.69.160' })
  const country: string = geo.country
  t.equal(country, 'FR')
  const n: number = await system.ask(Counter, { by: 2 })
  t.equal(n, 2)
  if (country !== 'FR') {
    // @ts-expect-error wrong field
    await system.tell(GeoIp, { address: '1.2.3.4' })
  }
  // @ts-expect-error reply is not a string
  const wrong: string = await system.ask(Counter, { by: 1 })
  t.equal(wrong, 3)
  await system.stop()
  t.ok(Bad && BadState)
})
