// troupe/cdk's optional alarm on how long a message waits parked (for a throttle's token or a
// concurrency slot): a Metrics Insights query of the hosts' OldestParkedAgeMs gauge over every
// actor type of the deployment's service, which is the name and dimension set the host writes.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { App, Stack } from 'aws-cdk-lib'
import { Template as Assertions } from 'aws-cdk-lib/assertions'
import { Code } from 'aws-cdk-lib/aws-lambda'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import t from 'tap'
import { loadTroupeApp, oldestParkedQuery, TroupeDeployment, type TroupeDeploymentProps } from '../../lib/cdk/index.js'
import { emfLines } from '../../lib/metrics/emf.js'
import { STRICT_VALIDATION } from './fixtures/cfn-spec.js'

const ANALYTICS = join(fileURLToPath(new URL('../..', import.meta.url)), 'examples/analytics/troupe.app.ts')
const app = await loadTroupeApp(ANALYTICS)

function synthesize(dir: string, alarms: TroupeDeploymentProps['alarms']) {
  const stack = new Stack(new App({ outdir: dir, context: STRICT_VALIDATION }), 'Troupe')
  const code = Code.fromBucket(Bucket.fromBucketName(stack, 'Artifacts', 'my-artifacts'), 'troupe/lambda.zip')
  const deployment = new TroupeDeployment(stack, 'Deployment', { app, name: 'analytics', code, ...(alarms ? { alarms } : {}) })
  return { deployment, template: Assertions.fromStack(stack) }
}

t.test('asked for, an alarm on the oldest parked message of any type; not asked, none', async (t) => {
  const { deployment, template } = synthesize(t.testdir(), { iteratorAgeMs: false, deadLetters: false, oldestParkedAgeMs: 300_000 })
  t.equal(deployment.alarms.length, 1)
  const query = `SELECT MAX(OldestParkedAgeMs) FROM SCHEMA("troupe", Actor, Service) WHERE Service = 'analytics'`
  t.equal(oldestParkedQuery('analytics'), query)
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Metrics: [{ Id: 'expr_1', Expression: query, Period: 60, ReturnData: true, Label: 'oldest parked message, ms' }],
    Threshold: 300_000,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  })
  t.equal(synthesize(t.testdir(), {}).deployment.alarms.length, 2, 'by default only the iterator age and dead letters')
  t.throws(() => synthesize(t.testdir(), { oldestParkedAgeMs: -1 }), /TroupeDeploymentProps\.alarms\.oldestParkedAgeMs must be a number above 0, or false/)

  // The query reads what the host writes: the gauge under the namespace and dimensions of the query.
  const line = JSON.parse(emfLines('analytics', 0, { types: new Map(), traffic: [] }, undefined, new Map([['pageStats', { parked: 3, oldestParkedAgeMs: 400_000 }]]))[0]!)
  const directive = line._aws.CloudWatchMetrics[0]
  t.equal(directive.Namespace, 'troupe')
  t.same([...directive.Dimensions[0]].sort(), ['Actor', 'Service'], 'the dimension set of SCHEMA(…, Actor, Service)')
  t.ok(directive.Metrics.some((m: { Name: string }) => m.Name === 'OldestParkedAgeMs'), 'a metric named OldestParkedAgeMs')
  t.same([line.Service, line.OldestParkedAgeMs], ['analytics', 400_000])
})
