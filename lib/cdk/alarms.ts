// The two alarms a team watches a troupe deployment by. Iterator age: Lambda's IteratorAge of the
// host function, how old the oldest record its mappings have read but not finished is; it grows
// when the host falls behind or a batch keeps failing (the mapping retries it, holding its shard).
// Dead letters: the `dead` count the host writes after each invocation as CloudWatch EMF (lib/metrics/emf.ts:
// namespace troupe, dimensions Service and Actor), summed over every actor type by a Metrics
// Insights query, so an actor type added later is covered without changing the alarm. And, when
// asked for, a third: the age of the oldest message parked for a throttle or a concurrency slot
// (the host's OldestParkedAgeMs gauge, lib/metrics/backlog.ts), its maximum over every type by the
// same kind of query: flow control that holds messages back longer than a team accepts.
import { Duration } from 'aws-cdk-lib/core'
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch'
import type { Construct } from 'constructs'
import { ConfigError } from '../core/errors.js'
import { METRICS_NAMESPACE } from '../metrics/emf.js'

export interface TroupeAlarmOptions {
  /**
   * Alarm when the iterator age (its maximum in a minute) stays at or above this for
   * {@link ITERATOR_AGE_MINUTES} minutes in a row. `false`: no alarm.
   * @default 60_000
   */
  readonly iteratorAgeMs?: number | false
  /**
   * Alarm when at least this many messages are dead-lettered within {@link DEAD_LETTER_WINDOW_MINUTES}
   * minutes. `false`: no alarm.
   * @default 1
   */
  readonly deadLetters?: number | false
  /**
   * Alarm when a message has waited parked (for a throttle's token or a concurrency slot) this
   * long or more, in any actor type: the most the hosts reported in a minute. `false` or absent:
   * no alarm.
   * @default false
   */
  readonly oldestParkedAgeMs?: number | false
  /** Told when an alarm goes off and when it clears (`new SnsAction(topic)` from aws-cdk-lib/aws-cloudwatch-actions). */
  readonly actions?: readonly IAlarmAction[]
}

export const ALARM_DEFAULTS = { iteratorAgeMs: 60_000, deadLetters: 1 } as const
/** A minute of lag can be one slow batch; three in a row is a host that does not keep up. */
export const ITERATOR_AGE_MINUTES = 3
export const DEAD_LETTER_WINDOW_MINUTES = 5
/** The metric the host counts dead letters in (lib/metrics/emf.ts). */
export const DEAD_METRIC = 'dead'
/** The gauge of the oldest parked message's age (lib/metrics/backlog.ts). */
export const OLDEST_PARKED_METRIC = 'OldestParkedAgeMs'

/** Where the host's metrics are: its function, and the service name it writes them under (the table's name, the handler's default). */
export interface AlarmTarget {
  functionName: string
  service: string
}

/** Makes the alarms `options` asks for, in `scope`. */
export function troupeAlarms(scope: Construct, target: AlarmTarget, options: TroupeAlarmOptions): Alarm[] {
  const iteratorAgeMs = threshold('iteratorAgeMs', options.iteratorAgeMs ?? ALARM_DEFAULTS.iteratorAgeMs)
  const deadLetters = threshold('deadLetters', options.deadLetters ?? ALARM_DEFAULTS.deadLetters)
  const alarms: Alarm[] = []
  if (iteratorAgeMs !== false) {
    alarms.push(
      new Alarm(scope, 'IteratorAgeAlarm', {
        alarmDescription: `troupe: the host ${target.functionName} is ${iteratorAgeMs} ms or more behind its streams (or a batch keeps failing)`,
        metric: new Metric({
          namespace: 'AWS/Lambda',
          metricName: 'IteratorAge',
          dimensionsMap: { FunctionName: target.functionName },
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: iteratorAgeMs,
        evaluationPeriods: ITERATOR_AGE_MINUTES,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No records, no invocations, no data: an idle stream is not behind.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    )
  }
  if (deadLetters !== false) {
    alarms.push(
      new Alarm(scope, 'DeadLetterAlarm', {
        alarmDescription: `troupe: ${deadLetters} or more messages dead-lettered by ${target.functionName} within ${DEAD_LETTER_WINDOW_MINUTES} minutes (troupe inspect lists them)`,
        metric: new MathExpression({
          expression: deadLetterQuery(target.service),
          usingMetrics: {},
          period: Duration.minutes(DEAD_LETTER_WINDOW_MINUTES),
          label: 'dead letters',
        }),
        threshold: deadLetters,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // The host writes nothing for what did not happen.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    )
  }
  const oldestParkedAgeMs = threshold('oldestParkedAgeMs', options.oldestParkedAgeMs ?? false)
  if (oldestParkedAgeMs !== false) {
    alarms.push(
      new Alarm(scope, 'OldestParkedAlarm', {
        alarmDescription: `troupe: a message has waited ${oldestParkedAgeMs} ms or more for a throttle or a concurrency slot in ${target.functionName} (troupe inspect actors shows which type)`,
        metric: new MathExpression({
          expression: oldestParkedQuery(target.service),
          usingMetrics: {},
          period: Duration.minutes(1),
          label: 'oldest parked message, ms',
        }),
        threshold: oldestParkedAgeMs,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // The hosts write the gauge only while something is parked (and a 0 when it runs out).
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    )
  }
  for (const alarm of alarms) alarm.addAlarmAction(...(options.actions ?? []))
  for (const alarm of alarms) alarm.addOkAction(...(options.actions ?? []))
  return alarms
}

/** The Metrics Insights query summing the `dead` count of every actor type of one service. */
export function deadLetterQuery(service: string): string {
  return `SELECT SUM(${DEAD_METRIC}) FROM SCHEMA("${METRICS_NAMESPACE}", Actor, Service) WHERE Service = '${service}'`
}

/** The Metrics Insights query of the oldest parked message's age over every actor type of one service. */
export function oldestParkedQuery(service: string): string {
  return `SELECT MAX(${OLDEST_PARKED_METRIC}) FROM SCHEMA("${METRICS_NAMESPACE}", Actor, Service) WHERE Service = '${service}'`
}

function threshold(field: string, value: number | false): number | false {
  if (value === false) return value
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`TroupeDeploymentProps.alarms.${field} must be a number above 0, or false for no alarm, got ${String(value)}`)
  }
  return value
}
