// The flagship (examples/analytics) deployed with the AWS CDK: a stack holding its troupe
// deployment (troupe/cdk's TroupeDeployment: the streams, table, role, function, mappings and
// tick that `troupe template` writes, with troupe's own bundle of the app as the code), alarms on
// the host's iterator age and on dead letters sent to a topic, and the names an API needs.
//   npx tsx --conditions=troupe-source examples/cdk/app.ts    writes examples/cdk/cdk.out
//   cd examples/cdk && npx cdk deploy                          with the AWS CDK CLI (cdk.json runs this file)
import { fileURLToPath } from 'node:url'
import { App, CfnOutput, Stack } from 'aws-cdk-lib'
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions'
import { Topic } from 'aws-cdk-lib/aws-sns'
import { loadTroupeApp, TroupeDeployment } from 'troupe/cdk'

// Under the CDK CLI, CDK_OUTDIR says where the cloud assembly goes; run directly, beside this file.
const app = new App({ outdir: process.env.CDK_OUTDIR ?? fileURLToPath(new URL('./cdk.out', import.meta.url)) })
const stack = new Stack(app, 'TroupeAnalytics', { description: 'troupe: the page-view analytics example' })

const alerts = new Topic(stack, 'Alerts')
const analytics = new TroupeDeployment(stack, 'Analytics', {
  app: await loadTroupeApp(new URL('../analytics/troupe.app.ts', import.meta.url)),
  name: 'troupe-analytics',
  shards: 1,
  memoryMb: 1024,
  alarms: { iteratorAgeMs: 60_000, deadLetters: 1, actions: [new SnsAction(alerts)] },
})

// An API elsewhere asks the host by Invoke (`analytics.function.grantInvoke(api)`) and reads the table.
new CfnOutput(stack, 'FunctionName', { value: analytics.settings.functionName })
new CfnOutput(stack, 'TableName', { value: analytics.settings.tableName })
new CfnOutput(stack, 'StreamName', { value: analytics.settings.streams[0]!.name })
new CfnOutput(stack, 'AlertsTopic', { value: alerts.topicArn })

app.synth()
