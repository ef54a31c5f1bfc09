// troupe/cdk: a troupe deployment as an AWS CDK construct, the same resources `troupe template`
// writes. Needs the optional peers aws-cdk-lib and constructs (and esbuild, and tsx for an app in
// TypeScript, when the construct bundles the app itself).
export { TroupeDeployment, type TroupeDeploymentProps } from './deployment.js'
export { loadTroupeApp, type TroupeAppFile } from './load-app.js'
export { ALARM_DEFAULTS, DEAD_LETTER_WINDOW_MINUTES, ITERATOR_AGE_MINUTES, deadLetterQuery, oldestParkedQuery, type TroupeAlarmOptions } from './alarms.js'
