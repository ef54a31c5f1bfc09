import { Actor, traced, type Context, type Traced } from 'troupe'
import type { EnrichedReading, Reading } from './records.js'

/** A transform: adds °F and flags extremes. Stateless, so readings are enriched concurrently. */
export class Enrich extends Actor<Traced<Reading>, Traced<EnrichedReading>> {
  static readonly type = 'enrich'
  static readonly version = '2.0.0'

  receive(reading: Traced<Reading>, ctx: Context): Traced<EnrichedReading> {
    const { celsius } = reading.data
    return traced(ctx, Enrich.version, { ...reading.data, fahrenheit: Math.round((celsius * 9) / 5 * 10 + 320) / 10, extreme: celsius < -30 || celsius > 45 }, reading)
  }
}
