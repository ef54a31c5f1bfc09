import { Actor, TerminalError, traced, type Context, type Traced } from 'troupe'
import type { Line, Reading } from './records.js'

/** A transform: `station,time,celsius` → a reading. A line that is not one is a dead letter naming the file and line. */
export class ParseReading extends Actor<Traced<Line>, Traced<Reading>> {
  static readonly type = 'parseReading'
  static readonly version = '1.1.0'

  receive(line: Traced<Line>, ctx: Context): Traced<Reading> {
    const [station, at, celsius, ...rest] = line.data.text.split(',').map((f) => f.trim())
    const value = Number(celsius)
    const where = `${line.data.file}:${line.data.lineNo}`
    if (!station || !at || celsius === undefined || celsius === '' || rest.length > 0) throw new TerminalError(`${where}: expected station,time,celsius, got "${line.data.text}"`)
    if (!Number.isFinite(value)) throw new TerminalError(`${where}: celsius "${celsius}" is not a number`)
    if (Number.isNaN(Date.parse(at))) throw new TerminalError(`${where}: time "${at}" is not ISO 8601`)
    return traced(ctx, ParseReading.version, { id: `${station}@${at}`, station, at, celsius: value }, line)
  }
}
