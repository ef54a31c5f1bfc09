import { Actor, TerminalError, traced, type Context, type Traced } from 'troupe'
import type { Line, Reading } from './records.js'

/**
 * A transform: `station,time,celsius[,samples]` → a reading, where samples are the raw values
 * behind it, separated by spaces. A line that is not one is a dead letter naming the file and line.
 */
export class ParseReading extends Actor<Traced<Line>, Traced<Reading>> {
  static readonly type = 'parseReading'
  static readonly version = '1.2.0'

  receive(line: Traced<Line>, ctx: Context): Traced<Reading> {
    const [station, at, celsius, samples, ...rest] = line.data.text.split(',').map((f) => f.trim())
    const value = Number(celsius)
    const where = `${line.data.file}:${line.data.lineNo}`
    if (!station || !at || celsius === undefined || celsius === '' || rest.length > 0) throw new TerminalError(`${where}: expected station,time,celsius[,samples], got "${clip(line.data.text)}"`)
    if (!Number.isFinite(value)) throw new TerminalError(`${where}: celsius "${celsius}" is not a number`)
    if (Number.isNaN(Date.parse(at))) throw new TerminalError(`${where}: time "${at}" is not ISO 8601`)
    const reading: Reading = { id: `${station}@${at}`, station, at, celsius: value }
    if (samples) reading.samples = parseSamples(samples, where)
    return traced(ctx, ParseReading.version, reading, line)
  }
}

function parseSamples(field: string, where: string): number[] {
  const values = field.split(' ').map(Number)
  const bad = values.findIndex((v) => !Number.isFinite(v))
  if (bad !== -1) throw new TerminalError(`${where}: sample ${bad + 1} "${clip(field.split(' ')[bad]!)}" is not a number`)
  return values
}

/** A line with its samples can be megabytes: an error quotes its start. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text
}
