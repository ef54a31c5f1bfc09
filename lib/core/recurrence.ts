import { Cron } from 'croner'
import { ConfigError } from './errors.js'

const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

/** The largest value of each field of a 5-field cron, for `start/step` (EventBridge) → `start-max/step` (croner). */
const FIELD_MAX = [59, 23, 31, 12, 7]

/**
 * EventBridge's cron fields in croner's dialect: `0/5` (from 0, every 5) becomes `0-59/5`, and
 * day-of-week numbers count from 1 = Sunday (EventBridge) instead of 0 = Sunday (croner); the
 * number after `#` (the nth weekday) and after `/` (a step) are not days and stay.
 */
function fromEventBridgeCron(fields: string[]): string[] {
  return fields.map((field, i) => {
    let out = field.replace(/(^|,)(\d+)\/(\d+)/g, (_m, lead: string, start: string, step: string) => `${lead}${start}-${FIELD_MAX[i]}/${step}`)
    if (i === 4) out = out.replace(/(^|[^#/\d])(\d+)/g, (_m, lead: string, day: string) => `${lead}${Number(day) - 1}`)
    return out
  })
}

/** When a recurring schedule fires next, strictly after `after` (epoch ms). */
export type NextDue = (after: number) => number | undefined

/**
 * Parses a recurring schedule, in the forms EventBridge uses and plain cron:
 * `rate(5 minutes)`, `cron(0 12 * * ? *)` (minutes hours day-of-month month day-of-week year),
 * or `*\/15 * * * *`. Times are UTC. Throws a ConfigError saying what was expected.
 *
 * A rate counts from its first firing; so does the schedule after a misfire, which
 * fires once and resumes from then (never a backlog).
 */
export function parseRecurrence(spec: string): NextDue {
  const rate = /^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$/i.exec(spec.trim())
  if (rate) {
    const ms = Number(rate[1]) * UNIT_MS[rate[2]!.toLowerCase()]!
    if (ms <= 0) throw new ConfigError(`schedule "${spec}": a rate must be at least 1 ${rate[2]}`)
    return (after) => after + ms
  }
  const aws = /^cron\((.*)\)$/i.exec(spec.trim())
  let fields = (aws ? aws[1]! : spec).trim().split(/\s+/)
  if (aws && fields.length === 6) {
    if (fields[5] !== '*' && fields[5] !== '?') throw new ConfigError(`schedule "${spec}": a year field other than * is not supported`)
    fields = fromEventBridgeCron(fields.slice(0, 5))
  }
  if (fields.length !== 5) {
    throw new ConfigError(`schedule "${spec}" is neither rate(N minutes|hours|days|seconds), cron(m h dom mon dow [year]) nor a 5-field cron`)
  }
  let cron: Cron
  try {
    cron = new Cron(fields.join(' '), { timezone: 'UTC', paused: true })
  } catch (error) {
    throw new ConfigError(`schedule "${spec}": ${(error as Error).message}`)
  }
  return (after) => cron.nextRun(new Date(after))?.getTime()
}
