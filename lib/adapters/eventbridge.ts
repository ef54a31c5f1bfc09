// EventBridge (and CloudWatch Events) events → tells: one message per event.
import type { EventBridgeEvent } from 'aws-lambda'
import type { ActorClass } from '../core/actor.js'
import type { System } from '../core/system.js'
import { allOrThrow, deliver, type AdapterArgs, type Delivered, type SourceItem } from './deliver.js'

/** An EventBridge event, as the adapter hands it to an actor. */
export interface BridgeEvent<Detail = unknown> {
  id: string
  /** `aws.ec2`, `aws.events` (scheduled rules), or your own source. */
  source: string
  /** `EC2 Instance State-change Notification`, `Scheduled Event`, … */
  detailType: string
  account: string
  /** ISO 8601. */
  time: string
  region: string
  resources: string[]
  detail: Detail
}

/** The event, or why it is not one. */
export function bridgeEventOf<Detail>(event: EventBridgeEvent<string, Detail>): SourceItem<BridgeEvent<Detail>> {
  const record = typeof event?.id === 'string' ? event.id : 'event'
  if (!event || typeof event.source !== 'string' || typeof event['detail-type'] !== 'string') {
    return { record, correlationId: record, error: new Error('not an EventBridge event: it needs id, source and detail-type') }
  }
  const item: BridgeEvent<Detail> = {
    id: event.id,
    source: event.source,
    detailType: event['detail-type'],
    account: event.account,
    time: event.time,
    region: event.region,
    resources: Array.isArray(event.resources) ? event.resources : [],
    detail: event.detail,
  }
  return { record, correlationId: event.id, item }
}

/**
 * A Lambda handler for an EventBridge rule's target (CloudWatch Events alike): tells `actor`
 * the event, with the event id as the correlation id. Throws when the send failed, so
 * EventBridge retries it.
 *
 * @example
 * export const handler = fromEventBridge<Ec2StateChange, typeof InstanceState>(system, InstanceState, {
 *   map: (e) => ({ instanceId: e.detail['instance-id'], state: e.detail.state, at: e.time }),
 * })
 */
export function fromEventBridge<Detail = unknown, C extends ActorClass = ActorClass>(
  system: System,
  actor: C,
  ...[options]: AdapterArgs<BridgeEvent<Detail>, C>
): (event: EventBridgeEvent<string, Detail>) => Promise<Delivered> {
  return async (event) => allOrThrow('eventbridge', actor, await deliver('eventbridge', system, actor, [bridgeEventOf(event)], options))
}
