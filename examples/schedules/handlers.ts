// The Lambda handlers of this example: each turns one AWS event shape into tells. In your own
// function, build them over a system that tells (see lambda.ts) and export them.
import type { System } from 'troupe'
import { fromDynamoDBStream, fromEventBridge, fromS3, fromSns } from 'troupe/adapters'
import { Alerts } from './actors/Alerts.js'
import { Heartbeat } from './actors/Heartbeat.js'
import { InstanceState } from './actors/InstanceState.js'
import { ItemMirror } from './actors/ItemMirror.js'
import { UploadIndex } from './actors/UploadIndex.js'

/** The `detail` of EventBridge's "EC2 Instance State-change Notification". */
export interface Ec2StateChange {
  'instance-id': string
  state: string
}

export function eventHandlers(system: System) {
  return {
    /** S3 → UploadIndex: the mailbox is the adapter's shape, so no map. */
    uploads: fromS3(system, UploadIndex),
    /** SNS → Alerts, keyed by the topic's name. */
    alerts: fromSns(system, Alerts, {
      map: (n) => ({ topic: n.topicArn.split(':').at(-1) ?? n.topicArn, subject: n.subject ?? '', text: n.message }),
    }),
    /** A DynamoDB table's stream → ItemMirror, one instance per item; answers the partial batch response. */
    mirror: fromDynamoDBStream(system, ItemMirror, {
      map: (c) => ({ table: c.table, id: String(c.keys.Id), event: c.event, item: c.newImage, sequenceNumber: c.sequenceNumber }),
    }),
    /** EventBridge EC2 state changes → InstanceState; other events are skipped (map returns undefined). */
    instances: fromEventBridge<Ec2StateChange, typeof InstanceState>(system, InstanceState, {
      map: (e) =>
        e.detailType === 'EC2 Instance State-change Notification' ? { instanceId: e.detail['instance-id'], state: e.detail.state, at: e.time } : undefined,
    }),
    /** A scheduled EventBridge rule (CloudWatch Events' "Scheduled Event") → Heartbeat, beside troupe's own schedule. */
    scheduledRule: fromEventBridge(system, Heartbeat, { map: (e) => ({ from: e.resources[0] ?? e.source }) }),
  }
}
