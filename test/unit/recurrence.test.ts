// EventBridge's cron dialect: `start/step` fields and day-of-week numbers from 1 = Sunday.
import t from 'tap'
import { parseRecurrence } from '../../lib/core/recurrence.js'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

t.test('cron(0/5 …) fires on minutes 0, 5, 10, … as on EventBridge', async (t) => {
  const next = parseRecurrence('cron(0/5 * * * ? *)')
  t.equal(iso(next(at('2026-11-23T10:02:30Z'))), '2026-11-23T10:05:00.000Z')
  t.equal(iso(next(at('2026-11-23T10:55:00Z'))), '2026-11-23T11:00:00.000Z')
  t.equal(iso(parseRecurrence('cron(10/15 * * * ? *)')(at('2026-11-23T10:41:00Z'))), '2026-11-23T10:55:00.000Z')
})

t.test('day-of-week numbers count from 1 = Sunday, as on EventBridge', async (t) => {
  // 2026-11-23 is a Monday.
  t.equal(iso(parseRecurrence('cron(0 12 ? * 2 *)')(at('2026-11-22T00:00:00Z'))), '2026-11-23T12:00:00.000Z', '2 is Monday')
  t.equal(iso(parseRecurrence('cron(0 12 ? * 1 *)')(at('2026-11-23T00:00:00Z'))), '2026-11-29T12:00:00.000Z', '1 is Sunday')
  t.equal(iso(parseRecurrence('cron(0 9 ? * 2-6 *)')(at('2026-11-28T00:00:00Z'))), '2026-11-30T09:00:00.000Z', '2-6 is Monday to Friday')
  t.equal(iso(parseRecurrence('cron(0 9 ? * MON-FRI *)')(at('2026-11-28T00:00:00Z'))), '2026-11-30T09:00:00.000Z', 'names are unchanged')
  t.equal(iso(parseRecurrence('cron(0 8 ? * 6#1 *)')(at('2026-11-23T00:00:00Z'))), '2026-12-04T08:00:00.000Z', '6#1 is the first Friday')
})

t.test('the plain 5-field form keeps cron numbering (0 = Sunday)', async (t) => {
  t.equal(iso(parseRecurrence('0 12 * * 1')(at('2026-11-22T00:00:00Z'))), '2026-11-23T12:00:00.000Z', '1 is Monday')
  t.equal(iso(parseRecurrence('*/5 * * * *')(at('2026-11-23T10:02:30Z'))), '2026-11-23T10:05:00.000Z')
})
