// Types' rate buckets in memory: the durable host's default when it is given no store of them,
// right for one host, or for hosts in one process given the same one (tests). Hosts in several
// processes need one shared store (DynamoDBTypeBuckets, which AwsSystem uses). Each call is
// synchronous, so each is atomic.
import type { BucketRate, TypeBucketStore } from './index.js'

export class MemoryTypeBuckets implements TypeBucketStore {
  private readonly buckets = new Map<string, { clockMs: number } & BucketRate>()

  advance(type: string, byMs: number, floorMs: number, rate: BucketRate): number | undefined {
    const before = this.buckets.get(type)?.clockMs ?? floorMs
    if (before < floorMs) return undefined
    this.buckets.set(type, { clockMs: before + byMs, ...rate })
    return before
  }

  restart(type: string, toMs: number, floorMs: number, rate: BucketRate): boolean {
    const bucket = this.buckets.get(type)
    if (bucket === undefined || bucket.clockMs >= floorMs) return false
    this.buckets.set(type, { clockMs: toMs, ...rate })
    return true
  }

  read(type: string): ({ clockMs: number } & BucketRate) | undefined {
    const bucket = this.buckets.get(type)
    return bucket && { ...bucket }
  }
}
