import { Actor, traced, type Context, type Traced } from 'troupe'
import { database } from '../db.js'
import type { EnrichedReading } from './records.js'

/**
 * The sink: writes each reading to SQLite with its lineage (this step included), and its raw
 * samples, when it has them, beside it. Stateless:
 * its turns run concurrently, and each write is one synchronous statement. Idempotent by reading
 * id (INSERT OR REPLACE): a redelivered record writes the same row again.
 */
export class SqliteSink extends Actor<Traced<EnrichedReading>> {
  static readonly type = 'sqliteSink'
  static readonly version = '1.1.0'

  async receive(reading: Traced<EnrichedReading>, ctx: Context) {
    const row = traced(ctx, SqliteSink.version, reading.data, reading)
    const db = await database()
    db.write(row.data, row.lineage)
  }
}
