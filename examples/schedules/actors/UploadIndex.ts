import { Actor, type Context } from 'troupe'
import type { S3ObjectCreated } from 'troupe/adapters'

export interface UploadIndexState {
  /** Objects by key: the newest event of each key wins, by S3's sequencer. */
  objects: Map<string, { size: number; sequencer: string }>
  bytes: number
}

/**
 * The objects of one bucket, fed by `fromS3`: its mailbox is the adapter's shape as it is, so it
 * needs no `map`. S3 may deliver an event twice or late; the sequencer says which is newer.
 */
export class UploadIndex extends Actor<S3ObjectCreated, void, UploadIndexState> {
  static readonly type = 'uploadIndex'

  key(msg: S3ObjectCreated) {
    return msg.bucket
  }

  initialState(): UploadIndexState {
    return { objects: new Map(), bytes: 0 }
  }

  receive(msg: S3ObjectCreated, ctx: Context<UploadIndexState>) {
    const known = ctx.state.objects.get(msg.key)
    if (known && !isLater(msg.sequencer, known.sequencer)) return // a repeat or a late event
    ctx.state.bytes += msg.size - (known?.size ?? 0)
    ctx.state.objects.set(msg.key, { size: msg.size, sequencer: msg.sequencer })
  }
}

/** S3 sequencers are hex strings compared after right-padding the shorter one with zeros. */
function isLater(a: string, b: string): boolean {
  const width = Math.max(a.length, b.length)
  return a.padEnd(width, '0').toUpperCase() > b.padEnd(width, '0').toUpperCase()
}
