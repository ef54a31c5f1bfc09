// The example as functions over any System (embedded or AWS): set the two schedules, feed the
// sample AWS events through the adapters, let the clock run, report every actor's state.
import { readFileSync } from 'node:fs'
import type { DynamoDBStreamEvent, EventBridgeEvent, S3Event, SNSEvent } from 'aws-lambda'
import type { System } from 'troupe'
import type { Delivered } from 'troupe/adapters'
import { Alerts, type AlertsState } from './actors/Alerts.js'
import { Digest, type DigestState } from './actors/Digest.js'
import { Heartbeat, type HeartbeatState } from './actors/Heartbeat.js'
import { InstanceState, type InstanceStateState } from './actors/InstanceState.js'
import { ItemMirror, type ItemMirrorState } from './actors/ItemMirror.js'
import { UploadIndex } from './actors/UploadIndex.js'
import { eventHandlers, type Ec2StateChange } from './handlers.js'

export const ACTORS = [Heartbeat, Digest, UploadIndex, Alerts, ItemMirror, InstanceState] as const

export const HEARTBEAT_EVERY = 'rate(1 minute)'
/** Every five minutes on the clock (minutes 00, 05, 10, …), UTC, in EventBridge's cron form. */
export const DIGEST_CRON = 'cron(0/5 * * * ? *)'

/** Sets the two recurring schedules (named, so setting them again replaces them). */
export async function startSchedules(system: System): Promise<void> {
  await system.schedule(Heartbeat, { from: HEARTBEAT_EVERY }, { every: HEARTBEAT_EVERY, name: 'heartbeat' })
  await system.schedule(Digest, { schedule: DIGEST_CRON }, { every: DIGEST_CRON, name: 'digest' })
}

export async function stopSchedules(system: System): Promise<void> {
  await system.cancelSchedule('heartbeat')
  await system.cancelSchedule('digest')
}

function sample<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./events/${file}`, import.meta.url), 'utf8')) as T
}

/**
 * Feeds the sample events (shaped as the AWS documentation shows them) through the handlers, as
 * Lambda would invoke them. The S3 event comes twice, as S3 may deliver it: counted once.
 */
export async function feedSampleEvents(system: System): Promise<Record<string, Delivered[]>> {
  const handlers = eventHandlers(system)
  const s3 = sample<S3Event>('s3-object-created.json')
  const ec2 = sample<EventBridgeEvent<string, Ec2StateChange>[]>('eventbridge-ec2-state-change.json')
  return {
    s3: [await handlers.uploads(s3), await handlers.uploads(s3)],
    sns: [await handlers.alerts(sample<SNSEvent>('sns-notification.json'))],
    dynamodbStream: [(await handlers.mirror(sample<DynamoDBStreamEvent>('dynamodb-stream.json'))).delivered],
    // The later state change first: EventBridge does not promise order.
    eventBridge: [await handlers.instances(ec2[1]!), await handlers.instances(ec2[0]!)],
    scheduledRule: [await handlers.scheduledRule(sample<EventBridgeEvent<'Scheduled Event', object>>('cloudwatch-scheduled-event.json'))],
  }
}

export interface SchedulesReport {
  heartbeat: HeartbeatState | undefined
  digest: DigestState | undefined
  uploads: { bucket: string; objects: Record<string, number>; bytes: number } | undefined
  alerts: AlertsState | undefined
  mirror: ItemMirrorState | undefined
  instance: InstanceStateState | undefined
  /** The recurring timers still set: the actor and the schedule. */
  timers: { target: string; every: string | undefined }[]
  delivered: Record<string, Delivered[]>
  /** Minutes of the system's clock from setting the schedules to this report. */
  ranMinutes: number
}

export const BUCKET = 'amzn-s3-demo-bucket'

export async function report(system: System, delivered: Record<string, Delivered[]>, since: number): Promise<SchedulesReport> {
  const ranMinutes = (system.clock.now() - since) / 60_000
  const uploads = await system.state(UploadIndex, BUCKET)
  return {
    heartbeat: await system.state(Heartbeat),
    digest: await system.state(Digest),
    uploads: uploads && { bucket: BUCKET, objects: Object.fromEntries([...uploads.objects].map(([k, o]) => [k, o.size])), bytes: uploads.bytes },
    alerts: await system.state(Alerts, 'sns-lambda'),
    mirror: await system.state(ItemMirror, 'ExampleTableWithStream/101'),
    instance: await system.state(InstanceState, 'i-abcd1111'),
    timers: (await system.timers()).map((t) => ({ target: t.target, every: t.every })),
    delivered,
    ranMinutes,
  }
}

/** The whole example: schedules and sample events, then `minutes` on the system's clock, then the report. */
export async function runSchedules(system: System, options: { minutes: number }): Promise<SchedulesReport> {
  const since = system.clock.now()
  await startSchedules(system)
  const delivered = await feedSampleEvents(system)
  await new Promise<void>((resolve) => system.clock.setTimeout(resolve, since + options.minutes * 60_000 - system.clock.now()))
  await system.idle()
  const result = await report(system, delivered, since)
  await stopSchedules(system)
  return result
}
