// SNS notifications → tells: one message per notification.
import type { SNSEvent } from 'aws-lambda'
import type { ActorClass } from '../core/actor.js'
import type { System } from '../core/system.js'
import { allOrThrow, deliver, type AdapterArgs, type Delivered, type SourceItem } from './deliver.js'

/** An SNS notification, as the SNS adapter hands it to an actor. */
export interface SnsNotification {
  topicArn: string
  messageId: string
  subject?: string
  /** The published text as is (often JSON: parse it in `map`). */
  message: string
  /** ISO 8601. */
  timestamp: string
  /** Message attributes by name: their values (String, Number and String.Array arrive as text). */
  attributes: Record<string, string>
}

/** The notifications of an SNS event. */
export function snsNotifications(event: SNSEvent): SourceItem<SnsNotification>[] {
  const records = Array.isArray(event?.Records) ? event.Records : []
  return records.map((r, i) => {
    const sns = r?.Sns
    const record = typeof sns?.MessageId === 'string' ? sns.MessageId : `record ${i}`
    if (!sns || typeof sns.Message !== 'string' || typeof sns.TopicArn !== 'string') {
      return { record, correlationId: record, error: new Error(`SNS record ${i} has no Sns.Message or Sns.TopicArn`) }
    }
    const attributes: Record<string, string> = {}
    for (const [name, a] of Object.entries(sns.MessageAttributes ?? {})) attributes[name] = String(a?.Value)
    const item: SnsNotification = {
      topicArn: sns.TopicArn,
      messageId: sns.MessageId,
      message: sns.Message,
      timestamp: sns.Timestamp,
      attributes,
      ...(sns.Subject ? { subject: sns.Subject } : {}),
    }
    return { record, correlationId: sns.MessageId, item }
  })
}

/**
 * A Lambda handler for an SNS subscription: tells `actor` one message per notification, with
 * the SNS MessageId as the correlation id. Throws when a send failed, so Lambda retries.
 *
 * @example
 * export const handler = fromSns(system, Alert, { map: (n) => ({ topic: n.topicArn, ...JSON.parse(n.message) }) })
 */
export function fromSns<C extends ActorClass>(system: System, actor: C, ...[options]: AdapterArgs<SnsNotification, C>): (event: SNSEvent) => Promise<Delivered> {
  return async (event) => allOrThrow('sns', actor, await deliver('sns', system, actor, snsNotifications(event), options))
}
