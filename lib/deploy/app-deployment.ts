// What a deployment takes from an app (defineApp): the streams its routing sends to, and the S3
// bucket of its payloads when they go to S3PayloadStore. `troupe template`, `troupe deploy` and
// troupe/cdk read an app the same way, so they make the same streams and bucket for it.
import type { App } from '../app/define-app.js'
import { Router } from '../routing/router.js'
import type { PayloadBucketSpec } from './resources.js'

/** The default stream when neither the deployment nor the app names one. */
export const DEFAULT_STREAM = 'troupe'

/** Every stream the app routes to, the default stream first. Throws the router's ConfigError for a bad `router`. */
export function appStreams(app: App, defaultStream: string): string[] {
  return new Router({ ...app.router, defaultStream }).streams
}

const DAY_MS = 86_400_000

/** The app's S3 payload bucket when its payloads go to S3PayloadStore, for the deployment to make; else undefined. */
export async function s3PayloadBucket(app: App | undefined): Promise<PayloadBucketSpec | undefined> {
  const store = app?.payloads?.store
  if (store === undefined) return undefined
  // Loaded only here: the S3 client is for apps that use it.
  const { S3PayloadStore } = await import('../store/s3-payload-store.js')
  if (!(store instanceof S3PayloadStore)) return undefined
  const { ClaimCheck } = await import('../routing/claim-check.js')
  const { ttlMs } = new ClaimCheck({ ...app!.payloads, store })
  return { bucket: store.bucket, prefix: store.prefix, expireAfterDays: Math.ceil(ttlMs / DAY_MS) }
}
